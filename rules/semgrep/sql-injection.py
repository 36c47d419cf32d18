import sqlite3


def find_payment(conn, payment_id):
    # ruleid: payment.sql-built-by-string-formatting
    return conn.execute("SELECT id, amount FROM payments WHERE id = '%s'" % payment_id).fetchone()


def find_by_order(cur, order_ref):
    # ruleid: payment.sql-built-by-string-formatting
    cur.execute(f"SELECT * FROM payments WHERE order_ref = '{order_ref}'")


def refund(cur, payment_id):
    # ruleid: payment.sql-built-by-string-formatting
    cur.execute("UPDATE payments SET status = 'refunded' WHERE id = {}".format(payment_id))


def by_customer(cur, customer):
    query = "SELECT * FROM payments WHERE customer = '" + customer + "'"
    # ruleid: payment.sql-built-by-string-formatting
    cur.execute(query)


def by_status(cur, status):
    sql = "DELETE FROM payments WHERE status = '%s'" % status
    # ruleid: payment.sql-built-by-string-formatting
    return cur.execute(sql)


def find_payment_ok(conn, payment_id):
    # ok: payment.sql-built-by-string-formatting
    return conn.execute("SELECT id, amount FROM payments WHERE id = ?", (payment_id,)).fetchone()


def find_payment_pyformat(cur, payment_id):
    # ok: payment.sql-built-by-string-formatting
    cur.execute("SELECT id FROM payments WHERE id = %(id)s", {"id": payment_id})


def not_sql(log, payment_id):
    # ok: payment.sql-built-by-string-formatting
    log.execute("processing payment %s" % payment_id)


def constant_query(cur):
    query = "SELECT count(*) FROM payments"
    # ok: payment.sql-built-by-string-formatting
    cur.execute(query)


def count_rows(cur, quote_name, table):
    # ok: payment.sql-built-by-string-formatting
    cur.execute("SELECT COUNT(*) FROM %s" % quote_name(table))


def delete_keys(cur, table, keys):
    # ok: payment.sql-built-by-string-formatting
    cur.execute("DELETE FROM %s WHERE cache_key IN (%s)" % (table, ", ".join(["%s"] * len(keys))), keys)


def delete_ids(cur, ids):
    # ruleid: payment.sql-built-by-string-formatting
    cur.execute("DELETE FROM payments WHERE id IN (%s)" % ", ".join(ids))


def by_amount(cur, limit):
    # ruleid: payment.sql-built-by-string-formatting
    cur.execute("SELECT * FROM payments WHERE amount > %d" % limit)


def by_placeholder_escape(cur, table, key):
    # ok: payment.sql-built-by-string-formatting
    cur.execute("SELECT value FROM %s WHERE cache_key = %%s" % table, [key])


def format_identifier_with_bound_value(cur, table, params):
    # ok: payment.sql-built-by-string-formatting
    cur.executemany("DELETE FROM {} WHERE 0=1 AND 0=%s".format(table), params)


def fstring_identifiers_with_bound_values(cur, table, column, params):
    # ok: payment.sql-built-by-string-formatting
    cur.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", params)


def concat_suffix(cur, suffix):
    # ok: payment.sql-built-by-string-formatting
    cur.execute("SELECT '%s'" + suffix)


def fstring_value(cur, amount):
    # ruleid: payment.sql-built-by-string-formatting
    cur.execute(f"SELECT * FROM payments WHERE amount = {amount}")


def in_list_of_placeholders(db, names):
    marks = ", ".join("?" for _ in names)
    # ok: payment.sql-built-by-string-formatting
    return db.execute(f"SELECT id FROM runs WHERE name IN ({marks})", names)


def in_list_of_placeholders_multiplied(db, pid, missing):
    marks = ", ".join(["?"] * len(missing))
    # ok: payment.sql-built-by-string-formatting
    return db.execute(f"SELECT id FROM findings WHERE project_id = ? AND fingerprint IN ({marks})", [pid, *missing])


def rows_of_placeholders(db, chunk, params):
    values = ", ".join(["(?, ?, ?)"] * len(chunk))
    # ok: payment.sql-built-by-string-formatting
    return db.execute(f"INSERT INTO findings (a, b, c) VALUES {values} RETURNING id", params)


def constant_subquery(db, cutoff):
    latest = "SELECT MAX(r2.id) FROM runs r2 WHERE r2.ref = runs.ref"
    # ok: payment.sql-built-by-string-formatting
    return db.execute(f"DELETE FROM runs WHERE finished < ? AND id <> ({latest})", (cutoff,))


def placeholders_and_a_spliced_value(db, ids, user):
    marks = ", ".join("?" for _ in ids)
    # ruleid: payment.sql-built-by-string-formatting
    return db.execute(f"SELECT x FROM t WHERE s IN ({marks}) AND owner = '{user}'", ids)


def in_list_of_values(db, ids):
    marks = ", ".join(ids)
    # ruleid: payment.sql-built-by-string-formatting
    return db.execute(f"SELECT x FROM t WHERE s IN ({marks})")


def in_list_spliced_on_another_line(db, ids):
    query = (
        "SELECT x FROM t"
        # ruleid: payment.sql-built-by-string-formatting
        f" WHERE s IN ({', '.join(ids)})"
    )
    return db.execute(query)


FINDING_COLS = "id, fingerprint, kind"


def constant_columns_and_placeholders(db, pids):
    marks = ", ".join("?" for _ in pids)
    # ok: payment.sql-built-by-string-formatting
    return db.execute(f"SELECT project_id, {FINDING_COLS} FROM findings WHERE project_id IN ({marks})", pids)


def lowercase_value_next_to_a_constant(db, pid):
    # ruleid: payment.sql-built-by-string-formatting
    return db.execute(f"SELECT {FINDING_COLS} FROM findings WHERE project_id = {pid}")

const { Pool } = require("pg");
const mysql = require("mysql2/promise");
const pool = new Pool();

async function orderById(req) {
  // ruleid: payment.js-sql-built-by-string-formatting
  const { rows } = await pool.query(`SELECT * FROM orders WHERE id = ${req.params.id}`);
  return rows[0];
}

async function refunds(conn, merchant) {
  // ruleid: payment.js-sql-built-by-string-formatting
  const [rows] = await conn.execute("SELECT * FROM refunds WHERE merchant = '" + merchant + "'");
  return rows;
}

async function search(knex, term) {
  // ruleid: payment.js-sql-built-by-string-formatting
  return knex.raw(`select * from payments where note like '%${term}%'`);
}

async function byToken(sequelize, token) {
  const q = `SELECT * FROM cards WHERE token = '${token}'`;
  // ruleid: payment.js-sql-built-by-string-formatting
  return sequelize.query(q);
}

async function alterColumn(client, tableName, columnInfo) {
  const sql = `alter table ${tableName} alter column c set default '${columnInfo.defaultValue}'`;
  // ruleid: payment.js-sql-built-by-string-formatting
  return client.raw(sql);
}

async function libraryInternals(connection, client, path, symbol, column, value) {
  // ok: payment.js-sql-built-by-string-formatting
  await connection.query(`set search_path to ${path}`);
  // ok: payment.js-sql-built-by-string-formatting
  await client.raw(`?? ${symbol} ?`, [column, value]);
  // ok: payment.js-sql-built-by-string-formatting
  return this._graphQLClient.query(`query { payment(id: "${value}") { id } }`);
}

async function safe(req, knex, sql) {
  // ok: payment.js-sql-built-by-string-formatting
  await pool.query("SELECT * FROM orders WHERE id = $1", [req.params.id]);
  // ok: payment.js-sql-built-by-string-formatting
  await knex.raw("select * from payments where id = ?", [req.params.id]);
  // ok: payment.js-sql-built-by-string-formatting
  await pool.query(`SELECT count(*) FROM orders`);
  // ok: payment.js-sql-built-by-string-formatting
  return sql`SELECT * FROM orders WHERE id = ${req.params.id}`;
}

// issue 28: `var` and plain assignments are followed too.
function legacyLogin(connection, req, res) {
  var query = "SELECT * FROM users WHERE name = '" + req.body.name + "' AND pass = '" + req.body.pass + "'";
  // ruleid: payment.js-sql-built-by-string-formatting
  connection.query(query, function (err, rows) { res.json(rows); });
}

async function reassigned(db, id) {
  let sql;
  sql = `SELECT * FROM orders WHERE id = ${id}`;
  // ruleid: payment.js-sql-built-by-string-formatting
  return db.query(sql);
}

function legacyPlaceholders(connection, name) {
  var query = "SELECT * FROM users WHERE name = ?";
  // ok: payment.js-sql-built-by-string-formatting
  connection.query(query, [name]);
}

// issue 28: pg-promise's query methods (db.one/many/any/none/oneOrNone/manyOrNone/result).
function getProduct(db, productId) {
  var q = "SELECT * FROM products WHERE id = '" + productId + "';";
  // ruleid: payment.js-sql-built-by-string-formatting
  return db.one(q);
}

function search(db, query) {
  // ruleid: payment.js-sql-built-by-string-formatting
  return db.many("SELECT * FROM products WHERE name ILIKE '%" + query + "%'");
}

function searchSafe(db, query) {
  // ok: payment.js-sql-built-by-string-formatting
  return db.many("SELECT * FROM products WHERE name ILIKE '%' || $1 || '%'", [query]);
}

function listTables(db, names) {
  // ok: payment.js-sql-built-by-string-formatting
  return db.any(names.map((n) => n + "_archive"));
}

function loginWithOptions(connection, req, res) {
  let statement = `SELECT * FROM users WHERE user_name='${req.body.username}'`;
  // ruleid: payment.js-sql-built-by-string-formatting
  connection.query({ sql: statement, timeout: 40000 }, (err, rows) => res.json(rows));
}

function loginWithOptionsSafe(connection, req, res) {
  let statement = "SELECT * FROM users WHERE user_name = ?";
  // ok: payment.js-sql-built-by-string-formatting
  connection.query({ sql: statement, values: [req.body.username] }, (err, rows) => res.json(rows));
}

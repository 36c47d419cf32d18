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

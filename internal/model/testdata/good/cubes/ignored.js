cube(`ignored`, { sql: `SELECT 1` });

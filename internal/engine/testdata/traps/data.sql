-- The traps shop: a handful of rows per table, each chosen so that a join that duplicates
-- rows, or a wrong join direction, changes some number. Portable SQL: it runs unchanged on
-- DuckDB and PostgreSQL. Statements end with a semicolon at the end of a line.
--
-- customers 1 (Alice) has orders 10 and 11 and three tickets; 2 (Bob) has no order and one
-- ticket; 3 (Cara) has order 12 and no ticket. Order 13 belongs to customer 99, who does not
-- exist. Order 10 has three line items, 11 none, 12 one, 13 none. Payments: two for 10, one
-- for 11, three for 12 (all 10.00: a SUM(DISTINCT) would be wrong), none for 13.

CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(20), region VARCHAR(20));
INSERT INTO customers VALUES (1, 'Alice', 'north'), (2, 'Bob', 'south'), (3, 'Cara', 'north');

CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, status VARCHAR(20), amount DECIMAL(10,2), created_at TIMESTAMP);
INSERT INTO orders VALUES
  (10, 1, 'paid', 100.00, TIMESTAMP '2024-01-05 10:00:00'),
  (11, 1, 'open', 50.00, TIMESTAMP '2024-02-10 12:00:00'),
  (12, 3, 'paid', 30.00, TIMESTAMP '2024-02-20 08:00:00'),
  (13, 99, 'open', 20.00, TIMESTAMP '2024-03-01 09:00:00');

CREATE TABLE line_items (id INTEGER PRIMARY KEY, order_id INTEGER, product VARCHAR(20), quantity INTEGER, price DECIMAL(10,2));
INSERT INTO line_items VALUES
  (100, 10, 'pen', 2, 5.00),
  (101, 10, 'ink', 1, 20.00),
  (102, 10, 'pad', 4, 2.50),
  (103, 12, 'pen', 3, 5.00);

CREATE TABLE payments (id INTEGER PRIMARY KEY, order_id INTEGER, method VARCHAR(20), amount DECIMAL(10,2));
INSERT INTO payments VALUES
  (200, 10, 'card', 60.00),
  (201, 10, 'cash', 40.00),
  (202, 11, 'card', 45.00),
  (203, 12, 'card', 10.00),
  (204, 12, 'card', 10.00),
  (205, 12, 'cash', 10.00);

CREATE TABLE refunds (id INTEGER PRIMARY KEY, order_id INTEGER, amount DECIMAL(10,2));
INSERT INTO refunds VALUES (300, 10, 15.00), (301, 12, 5.00), (302, 12, 5.00);

CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER, cost DECIMAL(10,2));
INSERT INTO tickets VALUES (400, 1, 7.00), (401, 1, 3.00), (402, 1, 5.00), (403, 2, 11.00);

-- One sales target per region; two customers share north, nobody lives in west.
CREATE TABLE targets (region VARCHAR(20) PRIMARY KEY, goal DECIMAL(10,2));
INSERT INTO targets VALUES ('north', 500.00), ('south', 300.00), ('west', 100.00);

-- Monthly budgets per region: the key is (region, period).
CREATE TABLE budgets (region VARCHAR(20), period INTEGER, budget DECIMAL(10,2), PRIMARY KEY (region, period));
INSERT INTO budgets VALUES ('north', 1, 40.00), ('north', 2, 60.00), ('south', 1, 25.00), ('west', 1, 5.00);

-- A diamond: dia_root reaches dia_leaf through dia_left and through dia_right, two paths
-- of the same length.
CREATE TABLE dia_root (id INTEGER PRIMARY KEY);
INSERT INTO dia_root VALUES (1);
CREATE TABLE dia_leaf (id INTEGER PRIMARY KEY, value INTEGER);
INSERT INTO dia_leaf VALUES (1, 10), (2, 20);
CREATE TABLE dia_left (id INTEGER PRIMARY KEY, root_id INTEGER, leaf_id INTEGER);
INSERT INTO dia_left VALUES (1, 1, 1), (2, 1, 2);
CREATE TABLE dia_right (id INTEGER PRIMARY KEY, root_id INTEGER, leaf_id INTEGER);
INSERT INTO dia_right VALUES (1, 1, 1);

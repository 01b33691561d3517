// pgjdbc against Cubit's SQL API; compiled and run by internal/server/sqlclients_test.go.
//
//   javac -cp /usr/share/java/postgresql.jar -d /tmp/j clients/java/CubitJdbc.java
//   java -cp /tmp/j:/usr/share/java/postgresql.jar CubitJdbc query|meta JDBC_URL USER PASSWORD
//
// query: prepared statements with setFetchSize(2) inside a transaction (autocommit off), so
//        pgjdbc runs them through a named portal and Execute with a row limit of 2: portal
//        suspension. Prints "status\t<status>\t<count>" and "id\t<id>" lines.
// meta:  DatabaseMetaData.getTables and getColumns (needs the catalog emulation). Prints
//        "table\t<schema>\t<name>" and "column\t<table>\t<name>\t<type name>" lines.
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Properties;

public class CubitJdbc {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Properties props = new Properties();
        props.setProperty("user", args[2]);
        props.setProperty("password", args[3]);
        props.setProperty("connectTimeout", "10");
        props.setProperty("prepareThreshold", "1"); // server-side prepared from the first use
        try (Connection conn = DriverManager.getConnection(args[1], props)) {
            if (mode.equals("query")) {
                query(conn);
            } else if (mode.equals("meta")) {
                meta(conn);
            } else {
                throw new IllegalArgumentException("mode " + mode);
            }
        }
    }

    static void query(Connection conn) throws Exception {
        conn.setAutoCommit(false);
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT orders.status, orders.count FROM orders WHERE orders.status <> ? GROUP BY 1 ORDER BY 1")) {
            ps.setFetchSize(2);
            ps.setString(1, "cancelled");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    System.out.println("status\t" + rs.getString(1) + "\t" + rs.getLong(2));
                }
            }
        }
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT orders.id FROM orders WHERE orders.status = ? ORDER BY orders.id LIMIT 25")) {
            ps.setFetchSize(2);
            for (int run = 0; run < 2; run++) { // twice: the second run reuses the server-side statement
                ps.setString(1, "completed");
                int n = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (run == 1) {
                            System.out.println("id\t" + rs.getLong(1));
                        }
                        n++;
                    }
                }
                System.out.println("fetch\t" + n + "\t" + ps.getFetchSize());
            }
        }
        conn.commit();
    }

    static void meta(Connection conn) throws Exception {
        DatabaseMetaData md = conn.getMetaData();
        System.out.println("product\t" + md.getDatabaseProductName() + "\t" + md.getDatabaseProductVersion());
        try (ResultSet rs = md.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"})) {
            while (rs.next()) {
                System.out.println("table\t" + rs.getString("TABLE_SCHEM") + "\t" + rs.getString("TABLE_NAME"));
            }
        }
        try (ResultSet rs = md.getColumns(null, "public", "orders", "%")) {
            while (rs.next()) {
                System.out.println("column\t" + rs.getString("TABLE_NAME") + "\t" + rs.getString("COLUMN_NAME") + "\t" + rs.getString("TYPE_NAME"));
            }
        }
    }
}

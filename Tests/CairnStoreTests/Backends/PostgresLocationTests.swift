import CairnCore
import CairnPostgres
import Testing

@Suite struct PostgresLocationTests {
    @Test func readsEveryPartAndNeverShowsThePassword() throws {
        let l = try PostgresLocation(url: "postgresql://ops:s%40cret@db.internal:6543/cairn?sslmode=require&schema=grid_a&pool=8")
        #expect(l.host == "db.internal" && l.port == 6543 && l.user == "ops" && l.database == "cairn")
        #expect(l.password == "s@cret")
        #expect(l.tls == .require && l.schema == "grid_a" && l.poolSize == 8)
        #expect(l.description == "postgres://ops@db.internal:6543/cairn?sslmode=require&schema=grid_a&pool=8")
        #expect(!l.description.contains("cret"))
        #expect(!String(describing: l).contains("cret") && !"\(l)".contains("cret"))
    }

    @Test func defaultsAndPasswordPrecedence() throws {
        let l = try PostgresLocation(url: "postgres://cairn@localhost", password: "from-file")
        #expect(l.port == 5432 && l.database == "cairn" && l.tls == .prefer && l.schema == nil && l.poolSize == 24)
        #expect(l.password == "from-file")
        // As with libpq, a password written into the URL wins over the environment's.
        #expect(try PostgresLocation(url: "postgres://cairn:inline@localhost/x", password: "from-file").password == "inline")
    }

    @Test(arguments: [
        "mysql://u@h/db", "postgres:///db", "postgres://u@h/db?sslmode=verify-full", "postgres://u@h/db?schema=Bad-Name",
        "postgres://u@h/db?schema=x;drop", "postgres://u@h/db?pool=0", "postgres://u@h/db?application=x",
    ])
    func refusesWhatItCannotHonour(_ url: String) {
        #expect(throws: CairnError.self) { try PostgresLocation(url: url) }
        do {
            _ = try PostgresLocation(url: url)
        } catch let e as CairnError {
            #expect(e.code == .invalidArgument)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

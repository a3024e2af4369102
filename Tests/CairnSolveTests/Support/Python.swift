import CairnTestSupport
import Foundation

/// This target's Python references (Support/python): HiGHS and OR-Tools.
enum Python {
    static func run(_ script: String, _ query: Any) throws -> [String: Any] {
        try PythonReference.runBlocking("Tests/CairnSolveTests/Support/python/\(script)", query)
    }
}

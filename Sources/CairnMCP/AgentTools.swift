import CairnEngine
import Foundation
import MCP

/// The eight primitives as MCP tools: the engine's descriptions and schemas (`Primitive`), in
/// the SDK's types. Every call goes through the Gateway as the agent, on the run's own branch.
enum AgentTools {
    /// Made once: decoding the schemas costs milliseconds (the SDK's `Value` decoding compiles
    /// a regex per string), too much to pay at every `tools/list`.
    static let all: [Tool] = Primitive.all.map(tool)

    static func tool(_ primitive: Primitive) -> Tool {
        // The schemas are the engine's literals, already parsed once: decoding them cannot fail.
        let inputSchema = try! JSONDecoder().decode(Value.self, from: Data(primitive.schemaText.utf8))
        return Tool(
            name: primitive.name,
            description: primitive.description,
            inputSchema: inputSchema,
            annotations: .init(
                title: primitive.name,
                readOnlyHint: primitive.readOnly,
                destructiveHint: primitive.destructive,
                idempotentHint: primitive.idempotent,
                openWorldHint: false
            )
        )
    }
}

import CairnCore
import CairnEngine
import CairnStore
import Foundation
import MCP

/// The MCP surface of one run: MCP framing and the eight tool schemas in, an engine call, MCP
/// results out. Nothing here decides anything; the run's policy is the engine's.
public enum MCPSession {
    /// An MCP server offering the eight tools of `session`'s run.
    public static func server(for session: RunSession) async -> Server {
        let run = await session.run
        let server = Server(
            name: "cairn",
            version: "0.1.0",
            instructions:
                "Run \(run.id). You act on the world model of project '\(run.project)' through eight tools. Your changes go to your own "
                + "branch '\(run.branch)' (forked from '\(run.target)'); when the session ends they merge into '\(run.target)', or wait "
                + "as a merge request for a person's approval. Give a reason with every change.",
            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false))
        )
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: AgentTools.all) }
        let uri = "cairn://projects/\(run.project)/ontology"
        await server.withMethodHandler(ListResources.self) { _ in
            .init(resources: [
                Resource(
                    name: "ontology",
                    uri: uri,
                    title: "The project's ontology",
                    description: "Entity types, their properties and links, and the rules every write is checked against",
                    mimeType: "application/json"
                )
            ])
        }
        await server.withMethodHandler(ReadResource.self) { params in
            guard params.uri == uri else { throw MCPError.invalidParams("unknown resource \(params.uri); the one resource is \(uri)") }
            do {
                return .init(contents: [.text(try await session.ontologyText(), uri: uri, mimeType: "application/json")])
            } catch let e as CairnError {
                throw MCPError.invalidRequest("\(e.code.rawValue): \(e.clientFacing.message)")
            }
        }
        await server.withMethodHandler(CallTool.self) { params in
            let answer = await session.call(params.name, arguments(params.arguments ?? [:]))
            guard let error = answer.error else {
                return .init(content: [.text(text: answer.text, annotations: nil, _meta: nil)], isError: false)
            }
            // The same structured error the HTTP API answers, as text and as structured content.
            let structured = (try? JSONEncoder().encode(error.envelope)).flatMap { try? JSONDecoder().decode(Value.self, from: $0) }
            return .init(content: [.text(text: answer.text, annotations: nil, _meta: nil)], structuredContent: structured, isError: true)
        }
        return server
    }

    /// MCP's JSON values as the store's (the engine takes no protocol's types).
    static func arguments(_ values: [String: Value]) -> [String: JSONValue] {
        values.mapValues(json)
    }

    static func json(_ value: Value) -> JSONValue {
        switch value {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(Int64(i))
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .data(_, let data): .string(data.base64EncodedString())
        case .array(let a): .array(a.map(json))
        case .object(let o): .object(o.mapValues(json))
        }
    }
}

import CairnCore
import CairnGovernance
import CairnStore
import Foundation
import Hummingbird

extension Routes {
    func registerAccess(on org: RouterGroup<Context>) {
        org.get("/roles") { req, ctx in JSON.response(RoleList(roles: try await gateway.access.roles(try ctx.caller))) }
        org.put("/roles/:name") { req, ctx in
            let caller = try ctx.caller
            struct Body: Decodable {
                let authorities: [String]
                let description: String?
            }
            let b = try await body(Body.self, req)
            let authorities = try b.authorities.map { a in
                guard let v = Authority(rawValue: a) else {
                    throw CairnError(
                        .invalidArgument,
                        "unknown authority '\(a)': use \(Authority.allCases.map(\.rawValue).joined(separator: ", "))",
                        details: ["authority": a]
                    )
                }
                return v
            }
            return JSON.response(
                try await gateway.access.putRole(
                    caller,
                    Role(name: try ctx.parameters.require("name"), authorities: AuthoritySet(authorities), description: b.description)
                )
            )
        }
        org.delete("/roles/:name") { req, ctx in
            try await gateway.access.deleteRole(try ctx.caller, name: try ctx.parameters.require("name"))
            return Response(status: .noContent)
        }
        org.get("/grants") { req, ctx in JSON.response(GrantList(grants: try await gateway.access.grants(try ctx.caller))) }
        org.put("/grants/:id") { req, ctx in
            let caller = try ctx.caller
            struct Body: Decodable {
                let subject: String
                let role: String
                let target: GrantTarget
                let effect: GrantEffect?
                let shadow: Bool?
                let replaces: String?
            }
            let b = try await body(Body.self, req)
            let grant = Grant(
                id: try ctx.parameters.require("id"),
                subject: b.subject,
                role: b.role,
                target: b.target,
                effect: b.effect ?? .allow,
                shadow: b.shadow == true ? true : nil,
                replaces: b.replaces
            )
            return JSON.response(try await gateway.access.putGrant(caller, grant))
        }
        org.delete("/grants/:id") { req, ctx in
            try await gateway.access.deleteGrant(try ctx.caller, id: try ctx.parameters.require("id"))
            return Response(status: .noContent)
        }
        org.get("/members") { req, ctx in JSON.response(MemberList(members: try await gateway.access.members(try ctx.caller))) }
        org.put("/members/:subject") { req, ctx in
            let caller = try ctx.caller
            struct Body: Decodable { let role: String }
            let subject = try ctx.parameters.require("subject")
            return JSON.response(
                try await gateway.access.putMember(
                    caller,
                    subject: subject.removingPercentEncoding ?? subject,
                    role: try await body(Body.self, req).role
                )
            )
        }
        org.delete("/members/:subject") { req, ctx in
            let subject = try ctx.parameters.require("subject")
            try await gateway.access.deleteMember(try ctx.caller, subject: subject.removingPercentEncoding ?? subject)
            return Response(status: .noContent)
        }
        org.get("/keys") { req, ctx in JSON.response(KeyList(keys: try await gateway.access.keys(try ctx.caller))) }
        org.post("/keys") { req, ctx in
            let caller = try ctx.caller
            struct Body: Decodable {
                let kind: APIKeyRecord.Kind?
                let subject: String?
                let role: String
                let project: String?
                let path: String?
                let expiresAt: String?
                let description: String?
            }
            let b = try await body(Body.self, req)
            let minted = try await gateway.access.mintKey(
                caller,
                kind: b.kind ?? .user,
                subject: b.subject,
                role: b.role,
                project: b.project,
                path: b.path,
                expiresAt: b.expiresAt,
                description: b.description
            )
            return JSON.response(minted, status: .created)
        }
        org.delete("/keys/:id") { req, ctx in
            JSON.response(try await gateway.access.revokeKey(try ctx.caller, id: try ctx.parameters.require("id")))
        }
        org.get("/identity") { req, ctx in
            JSON.response(IdentityDoc(identity: try await gateway.access.identity(try ctx.caller)))
        }
        org.put("/identity") { req, ctx in
            let caller = try ctx.caller
            return JSON.response(try await gateway.access.putIdentity(caller, try await body(IdentitySettings.self, req)))
        }
        org.get("/access") { req, ctx in
            let caller = try ctx.caller
            return JSON.response(try await gateway.access.snapshot(caller, atMillis: try Query(request: req).time("at")))
        }
        // The OpenID AuthZEN access evaluation API shape: subject, action, resource → decision.
        org.post("/access/v1/evaluation") { req, ctx in
            let caller = try ctx.caller
            let b = try await body(AuthZENRequest.self, req)
            guard let authority = Authority(rawValue: b.action.name) else {
                throw CairnError(
                    .invalidArgument,
                    "unknown action '\(b.action.name)': use an authority (\(Authority.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            let subject = b.subject.id.contains(":") ? b.subject.id : "\(b.subject.type):\(b.subject.id)"
            let target: AccessTarget
            switch b.resource.type {
            case "organization": target = .organization
            case "project": target = AccessTarget(project: b.resource.id)
            case "branch": target = AccessTarget(project: b.resource.properties?.project, branch: b.resource.id)
            case "path", "file":
                target = AccessTarget(project: b.resource.properties?.project, branch: b.resource.properties?.branch, path: b.resource.id)
            default: throw CairnError(.invalidArgument, "resource type must be organization, project, branch or path")
            }
            if b.resource.type != "organization" && b.resource.type != "project" && target.project == nil {
                throw CairnError(.invalidArgument, "a \(b.resource.type) resource needs properties.project")
            }
            var at: Millis?
            if let time = b.context?.time {
                guard let ms = Clock.parseRFC3339(time) else { throw CairnError(.invalidArgument, "context.time must be an RFC 3339 time") }
                at = ms
            }
            let decision = try await gateway.access.evaluate(
                caller,
                subject: subject,
                groups: b.subject.properties?.groups ?? [],
                authority: authority,
                target: target,
                atMillis: at
            )
            return JSON.response(
                AuthZENResponse(
                    decision: decision.allowed,
                    context: .init(rule: decision.rule, reason: decision.reason, configCommit: decision.configCommit.hex)
                )
            )
        }
    }
}

struct RoleList: Codable { let roles: [Role] }
struct GrantList: Codable { let grants: [Grant] }
struct MemberList: Codable { let members: [AccessArea.Member] }
struct KeyList: Codable { let keys: [APIKeyRecord] }
struct IdentityDoc: Codable { let identity: IdentitySettings? }

struct AuthZENRequest: Decodable {
    struct Subject: Decodable {
        struct Properties: Decodable { let groups: [String]? }
        let type: String
        let id: String
        let properties: Properties?
    }
    struct Action: Decodable { let name: String }
    struct Resource: Decodable {
        struct Properties: Decodable {
            let project: String?
            let branch: String?
        }
        let type: String
        let id: String
        let properties: Properties?
    }
    struct Context: Decodable { let time: String? }
    let subject: Subject
    let action: Action
    let resource: Resource
    let context: Context?
}

struct AuthZENResponse: Codable {
    struct Context: Codable {
        let rule: String
        let reason: String
        let configCommit: String
    }
    let decision: Bool
    let context: Context
}

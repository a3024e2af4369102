import CairnCore

/// The three kinds of immutable object. The raw value is the tag hashed before the payload.
public enum ObjectKind: UInt8, Sendable, Codable {
    case blob = 0x62  // "b": a file's bytes
    case tree = 0x74  // "t": a prolly tree node
    case commit = 0x63  // "c": a snapshot with who/what/when/why

    public var name: String {
        switch self {
        case .blob: "blob"
        case .tree: "tree"
        case .commit: "commit"
        }
    }
}

/// An object as stored: its kind and canonical bytes. Its id is always recomputable from these.
public struct StoredObject: Sendable {
    public let kind: ObjectKind
    public let data: [UInt8]

    public init(kind: ObjectKind, data: [UInt8]) {
        self.kind = kind
        self.data = data
    }

    public var computedID: ObjectID { ObjectID.hash(kind: kind.rawValue, payload: data) }
}

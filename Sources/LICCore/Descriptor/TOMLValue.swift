// Data model produced by `TOMLParser`: every value and key carries the source
// position it was written at, so descriptor errors can point at file, line and key.

/// A 1-based source position. Columns count Unicode scalars, not bytes.
public struct TOMLPosition: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// A parsed TOML value. Arrays of tables (`[[x]]`) are `.array` of `.table` nodes.
public indirect enum TOMLValue: Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    case array([TOMLNode])
    case table(TOMLTable)

    /// "string", "integer", "float", "boolean", "array" or "table".
    public var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .bool: return "boolean"
        case .array: return "array"
        case .table: return "table"
        }
    }
}

extension TOMLValue: CustomStringConvertible {
    /// A TOML-like rendering for messages, e.g. `"x"`, `3`, `[1, 2]`, `{a = true}`.
    public var description: String {
        switch self {
        case .string(let s):
            return s.debugDescription
        case .integer(let i):
            return String(i)
        case .float(let d):
            if d.isNaN { return "nan" }
            if d.isInfinite { return d < 0 ? "-inf" : "inf" }
            return String(d)
        case .bool(let b):
            return String(b)
        case .array(let items):
            return "[" + items.map(\.value.description).joined(separator: ", ") + "]"
        case .table(let table):
            let pairs = table.keys.compactMap { key -> String? in
                guard let node = table[key] else { return nil }
                let bare = !key.isEmpty && key.unicodeScalars.allSatisfy(TOMLScanner.isBareKeyChar)
                return "\(bare ? key : key.debugDescription) = \(node.value)"
            }
            return "{" + pairs.joined(separator: ", ") + "}"
        }
    }
}

/// A value together with the position where it starts in the source.
public struct TOMLNode: Sendable {
    public var value: TOMLValue
    public var position: TOMLPosition

    public init(value: TOMLValue, position: TOMLPosition) {
        self.value = value
        self.position = position
    }

    public var typeName: String { value.typeName }

    public var stringValue: String? {
        if case .string(let s) = value { return s }
        return nil
    }

    public var integerValue: Int64? {
        if case .integer(let i) = value { return i }
        return nil
    }

    /// Only `.float` values; use `numberValue` to also accept integers.
    public var floatValue: Double? {
        if case .float(let d) = value { return d }
        return nil
    }

    /// Floats, and integers converted to `Double`.
    public var numberValue: Double? {
        switch value {
        case .float(let d): return d
        case .integer(let i): return Double(i)
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = value { return b }
        return nil
    }

    public var arrayValue: [TOMLNode]? {
        if case .array(let a) = value { return a }
        return nil
    }

    public var tableValue: TOMLTable? {
        if case .table(let t) = value { return t }
        return nil
    }
}

/// A table with keys in insertion order and the position of every key.
public struct TOMLTable: Sendable {
    /// Header position for `[x]` tables, key position for inline and implicitly
    /// created tables, 1:1 for the root table.
    public var position: TOMLPosition
    /// Keys in the order they were first written.
    public private(set) var keys: [String] = []
    /// Where each key was written (its first occurrence for implicit tables).
    public var keyPositions: [String: TOMLPosition] = [:]
    private var entries: [String: TOMLNode] = [:]

    public init(position: TOMLPosition = TOMLPosition(line: 1, column: 1)) {
        self.position = position
    }

    public subscript(key: String) -> TOMLNode? { entries[key] }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Adds or replaces `key`; new keys are appended to `keys`.
    mutating func insert(_ key: String, _ node: TOMLNode, keyPosition: TOMLPosition) {
        if entries.updateValue(node, forKey: key) == nil {
            keys.append(key)
        }
        keyPositions[key] = keyPosition
    }
}

/// A syntax or semantic error with the exact position it was detected at.
public struct TOMLParseError: Error, Sendable, CustomStringConvertible {
    public var position: TOMLPosition
    public var message: String

    public init(position: TOMLPosition, message: String) {
        self.position = position
        self.message = message
    }

    public var description: String { "\(position): \(message)" }
}

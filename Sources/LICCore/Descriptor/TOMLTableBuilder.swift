// Mutable tree used while parsing TOML; converted to `TOMLTable` at the end.

/// One component of a (possibly dotted) key, with where it was written.
struct TOMLKeyPart {
    var name: String
    var position: TOMLPosition
}

/// Mutable table used while parsing. Reference semantics let headers reopen
/// tables deep in the tree; `kind` records how the table was created, which
/// decides whether later headers or dotted keys may extend it.
final class TOMLTableBuilder {
    enum Kind {
        case root
        case implicit  // created as a prefix of a header, e.g. `a` in `[a.b]`
        case header    // defined by `[x]` or as an element of `[[x]]`
        case dotted    // created by a dotted key, e.g. `a` in `a.b = 1`
        case inline    // the top of an inline table `{ ... }`
    }

    enum Entry {
        case value(TOMLNode)  // includes inline tables and static arrays: both are closed
        case table(TOMLTableBuilder)
        case tableArray(TOMLTableArrayBuilder)
    }

    var kind: Kind
    var position: TOMLPosition
    let depth: Int
    private(set) var keys: [String] = []
    private(set) var entries: [String: Entry] = [:]
    private(set) var keyPositions: [String: TOMLPosition] = [:]

    init(kind: Kind, position: TOMLPosition, depth: Int) {
        self.kind = kind
        self.position = position
        self.depth = depth
    }

    func add(_ key: String, _ entry: Entry, at position: TOMLPosition) {
        keys.append(key)
        entries[key] = entry
        keyPositions[key] = position
    }

    func build() -> TOMLTable {
        var table = TOMLTable(position: position)
        for key in keys {
            guard let entry = entries[key] else { continue }
            let node: TOMLNode
            switch entry {
            case .value(let value):
                node = value
            case .table(let builder):
                let sub = builder.build()
                node = TOMLNode(value: .table(sub), position: sub.position)
            case .tableArray(let array):
                let elements = array.tables.map { builder -> TOMLNode in
                    let sub = builder.build()
                    return TOMLNode(value: .table(sub), position: sub.position)
                }
                node = TOMLNode(value: .array(elements), position: array.position)
            }
            table.insert(key, node, keyPosition: keyPositions[key] ?? position)
        }
        return table
    }
}

/// The tables of a `[[x]]` array; a class so appending does not copy.
final class TOMLTableArrayBuilder {
    let position: TOMLPosition
    var tables: [TOMLTableBuilder] = []

    init(position: TOMLPosition) {
        self.position = position
    }
}


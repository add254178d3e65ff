// TOML v1.0 parser that keeps the source position of every key and value.
//
// Supported: comments, bare/quoted/dotted keys, all four string forms,
// integers (decimal, 0x, 0o, 0b), floats (incl. inf/nan), booleans, arrays,
// inline tables, `[table]` and `[[array.of.tables]]` headers.
// Not supported: dates and times (reported as an error at their position).

public enum TOMLParser {
    /// Maximum nesting of tables and arrays; bounds recursion so that hostile
    /// input cannot overflow the stack.
    static let maxDepth = 100

    public static func parse(_ text: String) throws(TOMLParseError) -> TOMLTable {
        var parser = TOMLDocumentParser(text)
        return try parser.parseDocument()
    }
}

/// Parses one document line by line; `current` follows the latest table header.
struct TOMLDocumentParser {
    private var scanner: TOMLScanner
    private let root: TOMLTableBuilder
    private var current: TOMLTableBuilder  // the table that key/value lines go into

    init(_ text: String) {
        scanner = TOMLScanner(text)
        root = TOMLTableBuilder(kind: .root, position: TOMLPosition(line: 1, column: 1), depth: 0)
        current = root
    }

    // MARK: Document structure

    mutating func parseDocument() throws(TOMLParseError) -> TOMLTable {
        while true {
            scanner.skipWhitespace()
            guard let c = scanner.peek() else { break }
            if scanner.consumeNewline() { continue }
            if c == "#" {
                try expectLineEnd(after: "comment")
            } else if c == "[" {
                try parseTableHeader()
                try expectLineEnd(after: "table header")
            } else {
                try parseKeyValue(into: current)
                try expectLineEnd(after: "value")
            }
        }
        return root.build()
    }

    /// Accepts optional whitespace and comment, then a newline or end of input.
    private mutating func expectLineEnd(after what: String) throws(TOMLParseError) {
        scanner.skipWhitespace()
        if scanner.peek() == "#" {
            try scanner.skipComment()
        }
        if scanner.isAtEnd || scanner.consumeNewline() { return }
        throw scanner.error(
            "unexpected \(TOMLScanner.describe(scanner.peek())) after \(what); expected end of line")
    }

    private mutating func parseKey() throws(TOMLParseError) -> [TOMLKeyPart] {
        var parts: [TOMLKeyPart] = []
        while true {
            scanner.skipWhitespace()
            parts.append(try parseSimpleKey())
            scanner.skipWhitespace()
            guard scanner.consume(".") else { return parts }
        }
    }

    private mutating func parseSimpleKey() throws(TOMLParseError) -> TOMLKeyPart {
        let position = scanner.position
        guard let c = scanner.peek() else {
            throw scanner.error("expected a key but found end of input")
        }
        if c == "\"" || c == "'" {
            return TOMLKeyPart(name: try scanner.scanString(allowMultiline: false), position: position)
        }
        guard TOMLScanner.isBareKeyChar(c) else {
            throw scanner.error("expected a key but found \(TOMLScanner.describe(c))")
        }
        return TOMLKeyPart(name: scanner.scanBareKey(), position: position)
    }

    private mutating func parseKeyValue(into table: TOMLTableBuilder) throws(TOMLParseError) {
        let path = try parseKey()
        scanner.skipWhitespace()
        guard scanner.consume("=") else {
            throw scanner.error(
                "expected '=' after key '\(Self.format(path))' but found \(TOMLScanner.describe(scanner.peek()))")
        }
        scanner.skipWhitespace()
        let keyPosition = path.last?.position ?? scanner.position
        let node = try parseValue(depth: table.depth + path.count, tablePosition: keyPosition)
        try insert(node, at: path, into: table)
    }

    // MARK: Values

    /// `tablePosition` becomes the position of an inline table value.
    private mutating func parseValue(
        depth: Int, tablePosition: TOMLPosition? = nil
    ) throws(TOMLParseError) -> TOMLNode {
        let start = scanner.position
        guard depth <= TOMLParser.maxDepth else {
            throw scanner.error("nesting is too deep (limit \(TOMLParser.maxDepth) levels)")
        }
        let value: TOMLValue
        switch scanner.peek() {
        case "\"", "'":
            value = .string(try scanner.scanString(allowMultiline: true))
        case "[":
            value = try parseArray(depth: depth)
        case "{":
            value = try parseInlineTable(depth: depth, position: tablePosition ?? start)
        case let c? where TOMLScanner.isBareValueChar(c):
            value = try scanner.scanBareValue()
        case let c:
            throw scanner.error("expected a value but found \(TOMLScanner.describe(c))")
        }
        return TOMLNode(value: value, position: start)
    }

    private mutating func parseArray(depth: Int) throws(TOMLParseError) -> TOMLValue {
        let open = scanner.position
        scanner.advance()  // `[`
        var items: [TOMLNode] = []
        while true {
            try skipArrayTrivia()
            if scanner.consume("]") { return .array(items) }
            if scanner.isAtEnd { throw scanner.error("unterminated array", at: open) }
            items.append(try parseValue(depth: depth + 1))
            try skipArrayTrivia()
            if scanner.consume(",") { continue }
            if scanner.consume("]") { return .array(items) }
            if scanner.isAtEnd { throw scanner.error("unterminated array", at: open) }
            throw scanner.error(
                "expected ',' or ']' in array but found \(TOMLScanner.describe(scanner.peek()))")
        }
    }

    /// Arrays may span lines and contain comments.
    private mutating func skipArrayTrivia() throws(TOMLParseError) {
        while true {
            scanner.skipWhitespace()
            if scanner.peek() == "#" {
                try scanner.skipComment()
            } else if !scanner.consumeNewline() {
                return
            }
        }
    }

    /// Inline tables are single-line, without trailing comma (TOML 1.0), and
    /// closed: nothing may be added to them afterwards.
    private mutating func parseInlineTable(
        depth: Int, position: TOMLPosition
    ) throws(TOMLParseError) -> TOMLValue {
        let open = scanner.position
        scanner.advance()  // `{`
        let builder = TOMLTableBuilder(kind: .inline, position: position, depth: depth)
        scanner.skipWhitespace()
        if scanner.consume("}") { return .table(builder.build()) }
        while true {
            scanner.skipWhitespace()
            try checkInlineTableContinues(open: open)
            if scanner.peek() == "}" {
                throw scanner.error("trailing commas are not allowed in inline tables")
            }
            try parseKeyValue(into: builder)
            scanner.skipWhitespace()
            if scanner.consume(",") { continue }
            if scanner.consume("}") { return .table(builder.build()) }
            try checkInlineTableContinues(open: open)
            throw scanner.error(
                "expected ',' or '}' in inline table but found \(TOMLScanner.describe(scanner.peek()))")
        }
    }

    private func checkInlineTableContinues(open: TOMLPosition) throws(TOMLParseError) {
        if scanner.isAtEnd { throw scanner.error("unterminated inline table", at: open) }
        if scanner.atNewline { throw scanner.error("newlines are not allowed in inline tables") }
        if scanner.peek() == "#" { throw scanner.error("comments are not allowed in inline tables") }
    }

    // MARK: Tables

    private mutating func parseTableHeader() throws(TOMLParseError) {
        let start = scanner.position
        scanner.advance()  // `[`
        let isArray = scanner.consume("[")
        let path = try parseKey()
        guard scanner.consume("]"), !isArray || scanner.consume("]") else {
            throw scanner.error(
                "expected '\(isArray ? "]]" : "]")' to close the table header but found "
                    + TOMLScanner.describe(scanner.peek()))
        }
        guard let last = path.last else { return }
        var parent = root
        for (i, part) in path.dropLast().enumerated() {
            parent = try descendForHeader(part, name: Self.format(path.prefix(i + 1)), in: parent)
        }
        let name = Self.format(path)
        current = isArray
            ? try appendTableArrayElement(last, name: name, header: start, in: parent)
            : try defineTable(last, name: name, header: start, in: parent)
    }

    /// Intermediate parts of a header may pass through any table, and through
    /// the latest element of an array of tables.
    private func descendForHeader(
        _ part: TOMLKeyPart, name: String, in table: TOMLTableBuilder
    ) throws(TOMLParseError) -> TOMLTableBuilder {
        switch table.entries[part.name] {
        case nil:
            let child = try makeChild(of: table, kind: .implicit, position: part.position)
            table.add(part.name, .table(child), at: part.position)
            return child
        case .table(let child)?:
            return child
        case .tableArray(let array)?:
            guard let lastElement = array.tables.last else {
                throw scanner.error("array of tables '\(name)' is empty", at: part.position)
            }
            return lastElement
        case .value(let node)?:
            throw notExtensible(node, name: name, at: part.position, definedAt: table.keyPositions[part.name])
        }
    }

    private func defineTable(
        _ part: TOMLKeyPart, name: String, header: TOMLPosition, in parent: TOMLTableBuilder
    ) throws(TOMLParseError) -> TOMLTableBuilder {
        switch parent.entries[part.name] {
        case nil:
            let table = try makeChild(of: parent, kind: .header, position: header)
            parent.add(part.name, .table(table), at: part.position)
            return table
        case .table(let table)?:
            switch table.kind {
            case .implicit:
                table.kind = .header
                table.position = header
                return table
            case .dotted:
                throw scanner.error(
                    "table [\(name)] was already defined with dotted keys at line \(table.position.line)",
                    at: part.position)
            case .root, .header, .inline:
                throw scanner.error(
                    "table [\(name)] is already defined at line \(table.position.line)", at: part.position)
            }
        case .tableArray(let array)?:
            throw scanner.error(
                "table [\(name)] is already defined as an array of tables at line \(array.position.line)",
                at: part.position)
        case .value(let node)?:
            throw notExtensible(node, name: name, at: part.position, definedAt: parent.keyPositions[part.name])
        }
    }

    private func appendTableArrayElement(
        _ part: TOMLKeyPart, name: String, header: TOMLPosition, in parent: TOMLTableBuilder
    ) throws(TOMLParseError) -> TOMLTableBuilder {
        let array: TOMLTableArrayBuilder
        switch parent.entries[part.name] {
        case nil:
            array = TOMLTableArrayBuilder(position: header)
            parent.add(part.name, .tableArray(array), at: part.position)
        case .tableArray(let existing)?:
            array = existing
        case .table(let table)?:
            throw scanner.error(
                "cannot define array of tables [[\(name)]]: '\(name)' is already a table (line \(table.position.line))",
                at: part.position)
        case .value(let node)?:
            if case .array = node.value {
                throw scanner.error(
                    "cannot append to static array '\(name)' defined at line \(node.position.line)",
                    at: part.position)
            }
            throw notExtensible(node, name: name, at: part.position, definedAt: parent.keyPositions[part.name])
        }
        let element = try makeChild(of: parent, kind: .header, position: header)
        array.tables.append(element)
        return element
    }

    /// Adds a key/value; dotted keys create (or reuse) tables along the way.
    private func insert(
        _ node: TOMLNode, at path: [TOMLKeyPart], into table: TOMLTableBuilder
    ) throws(TOMLParseError) {
        var target = table
        for (i, part) in path.dropLast().enumerated() {
            target = try descendForDottedKey(part, name: Self.format(path.prefix(i + 1)), in: target)
        }
        guard let last = path.last else { return }
        if let previous = target.keyPositions[last.name] {
            throw scanner.error(
                "duplicate key '\(Self.format(path))' (first defined at \(previous))", at: last.position)
        }
        target.add(last.name, .value(node), at: last.position)
    }

    /// Dotted keys may only extend tables that were themselves created by
    /// dotted keys; tables from headers are defined once (TOML 1.0).
    private func descendForDottedKey(
        _ part: TOMLKeyPart, name: String, in table: TOMLTableBuilder
    ) throws(TOMLParseError) -> TOMLTableBuilder {
        switch table.entries[part.name] {
        case nil:
            let child = try makeChild(of: table, kind: .dotted, position: part.position)
            table.add(part.name, .table(child), at: part.position)
            return child
        case .table(let child)? where child.kind == .dotted:
            return child
        case .table(let child)?:
            throw scanner.error(
                "cannot add keys to table '\(name)' with dotted keys: it is defined by a header at line \(child.position.line)",
                at: part.position)
        case .tableArray(let array)?:
            throw scanner.error(
                "cannot add keys to array of tables '\(name)' (line \(array.position.line)) with dotted keys",
                at: part.position)
        case .value(let node)?:
            throw notExtensible(node, name: name, at: part.position, definedAt: table.keyPositions[part.name])
        }
    }

    private func makeChild(
        of parent: TOMLTableBuilder, kind: TOMLTableBuilder.Kind, position: TOMLPosition
    ) throws(TOMLParseError) -> TOMLTableBuilder {
        let depth = parent.depth + 1
        guard depth <= TOMLParser.maxDepth else {
            throw scanner.error("nesting is too deep (limit \(TOMLParser.maxDepth) levels)", at: position)
        }
        return TOMLTableBuilder(kind: kind, position: position, depth: depth)
    }

    /// Error for using a non-table value, or a closed inline table, as a table.
    private func notExtensible(
        _ node: TOMLNode, name: String, at position: TOMLPosition, definedAt: TOMLPosition?
    ) -> TOMLParseError {
        let line = (definedAt ?? node.position).line
        if case .table = node.value {
            return scanner.error(
                "cannot add keys to inline table '\(name)' defined at line \(line): inline tables are closed",
                at: position)
        }
        let article = node.typeName == "integer" || node.typeName == "array" ? "an" : "a"
        return scanner.error(
            "key '\(name)' is already defined as \(article) \(node.typeName) at line \(line), not a table",
            at: position)
    }

    // MARK: Helpers

    /// Formats a key path for messages, quoting parts that are not bare keys.
    static func format<C: Collection>(_ path: C) -> String where C.Element == TOMLKeyPart {
        path.map { part -> String in
            let name = part.name
            if !name.isEmpty && name.unicodeScalars.allSatisfy(TOMLScanner.isBareKeyChar) {
                return name
            }
            var escaped = ""
            for c in name.unicodeScalars {
                switch c {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case _ where TOMLScanner.isControl(c) || c == "\n": escaped += TOMLScanner.describe(c)
                default: escaped.unicodeScalars.append(c)
                }
            }
            return "\"" + escaped + "\""
        }.joined(separator: ".")
    }
}

// Character-level scanning for the TOML parser: cursor and position tracking,
// comments, keys, strings, and the bare value tokens (booleans and numbers).
//
// TOML is context sensitive (`1 = 2` has a key `1`), so instead of producing a
// token stream up front, the parser asks the scanner for what it expects next.

/// A cursor over the document's Unicode scalars that tracks line and column.
struct TOMLScanner {
    private let scalars: [Unicode.Scalar]
    private(set) var index = 0
    private(set) var line = 1
    private(set) var column = 1

    init(_ text: String) {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" {  // byte order mark left in by some decoders
            scalars.removeFirst()
        }
        self.scalars = scalars
    }

    // MARK: Cursor

    var position: TOMLPosition { TOMLPosition(line: line, column: column) }
    var isAtEnd: Bool { index >= scalars.count }

    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let i = index + offset
        return i >= 0 && i < scalars.count ? scalars[i] : nil
    }

    mutating func advance() {
        guard index < scalars.count else { return }
        if scalars[index] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        index += 1
    }

    mutating func advance(by count: Int) {
        for _ in 0..<max(count, 0) { advance() }
    }

    /// Consumes `scalar` if it is next.
    mutating func consume(_ scalar: Unicode.Scalar) -> Bool {
        guard peek() == scalar else { return false }
        advance()
        return true
    }

    /// True at `\n` or `\r\n`; a lone `\r` is not a newline in TOML.
    var atNewline: Bool {
        peek() == "\n" || (peek() == "\r" && peek(1) == "\n")
    }

    mutating func consumeNewline() -> Bool {
        if peek() == "\r" && peek(1) == "\n" {
            advance(by: 2)
            return true
        }
        return consume("\n")
    }

    mutating func skipWhitespace() {
        while peek() == " " || peek() == "\t" { advance() }
    }

    /// Skips from `#` up to (not including) the end of the line.
    mutating func skipComment() throws(TOMLParseError) {
        advance()
        while let c = peek(), !atNewline {
            if Self.isControl(c) {
                throw error("control character \(Self.describe(c)) is not allowed in comments")
            }
            advance()
        }
    }

    func error(_ message: String, at position: TOMLPosition? = nil) -> TOMLParseError {
        TOMLParseError(position: position ?? self.position, message: message)
    }

    // MARK: Character classes

    /// Control characters forbidden in comments and strings (tab is allowed).
    static func isControl(_ c: Unicode.Scalar) -> Bool {
        (c.value < 0x20 && c != "\t") || c.value == 0x7F
    }

    static func isBareKeyChar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
        default: return false
        }
    }

    /// Characters of unquoted values: booleans, numbers, and (rejected) dates.
    static func isBareValueChar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "+", "-", ".", ":": return true
        default: return false
        }
    }

    /// A human-readable name for a scalar in error messages.
    static func describe(_ c: Unicode.Scalar?) -> String {
        guard let c else { return "end of input" }
        if c == "\n" { return "end of line" }
        if c.value < 0x20 || c.value == 0x7F || c == "\u{FEFF}" {
            let hex = String(c.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        return "'\(c)'"
    }

    // MARK: Keys

    mutating func scanBareKey() -> String {
        var out = String.UnicodeScalarView()
        while let c = peek(), Self.isBareKeyChar(c) {
            out.append(c)
            advance()
        }
        return String(out)
    }

    // MARK: Strings

    /// Scans any of the four string forms at the cursor (which is at a quote).
    mutating func scanString(allowMultiline: Bool) throws(TOMLParseError) -> String {
        let start = position
        guard let quote = peek(), quote == "\"" || quote == "'" else {
            throw error("expected a string")
        }
        if peek(1) == quote && peek(2) == quote {
            guard allowMultiline else {
                throw error("multi-line strings cannot be used as keys", at: start)
            }
            advance(by: 3)
            _ = consumeNewline()  // a newline right after the opening delimiter is trimmed
            return try scanMultilineBody(quote: quote, start: start)
        }
        advance()
        return try scanSingleLineBody(quote: quote, start: start)
    }

    private mutating func scanSingleLineBody(
        quote: Unicode.Scalar, start: TOMLPosition
    ) throws(TOMLParseError) -> String {
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek(), !atNewline else {
                throw error("unterminated string", at: start)
            }
            if c == quote {
                advance()
                return String(out)
            }
            if c == "\\" && quote == "\"" {
                try scanEscape(into: &out)
            } else {
                try appendStringChar(c, to: &out)
            }
        }
    }

    private mutating func scanMultilineBody(
        quote: Unicode.Scalar, start: TOMLPosition
    ) throws(TOMLParseError) -> String {
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek() else {
                throw error("unterminated multi-line string", at: start)
            }
            if c == quote {
                if closeMultiline(quote: quote, into: &out) { return String(out) }
            } else if consumeNewline() {
                out.append("\n")  // `\r\n` is normalised to `\n`
            } else if c == "\\" && quote == "\"" {
                if !skipLineEndingBackslash() {
                    try scanEscape(into: &out)
                }
            } else {
                try appendStringChar(c, to: &out)
            }
        }
    }

    /// Handles a run of quotes inside a multi-line string. Up to two quotes may
    /// sit right before the closing delimiter, so `""""` ends with one `"`.
    /// Returns true when the run closed the string.
    private mutating func closeMultiline(
        quote: Unicode.Scalar, into out: inout String.UnicodeScalarView
    ) -> Bool {
        var run = 0
        while peek(run) == quote { run += 1 }
        if run < 3 {
            for _ in 0..<run { out.append(quote) }
            advance(by: run)
            return false
        }
        // More than five quotes leaves the rest behind, reported as trailing garbage.
        let extra = min(run - 3, 2)
        for _ in 0..<extra { out.append(quote) }
        advance(by: 3 + extra)
        return true
    }

    /// In multi-line basic strings a `\` followed by optional whitespace and a
    /// newline removes all whitespace and newlines up to the next content.
    private mutating func skipLineEndingBackslash() -> Bool {
        var i = 1
        while peek(i) == " " || peek(i) == "\t" { i += 1 }
        guard peek(i) == "\n" || (peek(i) == "\r" && peek(i + 1) == "\n") else { return false }
        advance(by: i)
        while true {
            if peek() == " " || peek() == "\t" {
                advance()
            } else if !consumeNewline() {
                return true
            }
        }
    }

    private mutating func appendStringChar(
        _ c: Unicode.Scalar, to out: inout String.UnicodeScalarView
    ) throws(TOMLParseError) {
        if Self.isControl(c) {
            throw error("control character \(Self.describe(c)) must be escaped in strings")
        }
        out.append(c)
        advance()
    }

    private mutating func scanEscape(into out: inout String.UnicodeScalarView) throws(TOMLParseError) {
        let start = position
        advance()  // the backslash
        guard let c = peek() else { return }  // the caller reports the unterminated string
        let simple: Unicode.Scalar?
        switch c {
        case "b": simple = "\u{08}"
        case "t": simple = "\t"
        case "n": simple = "\n"
        case "f": simple = "\u{0C}"
        case "r": simple = "\r"
        case "\"": simple = "\""
        case "\\": simple = "\\"
        case "u": simple = nil
        case "U": simple = nil
        default:
            let shown = c == "\n" || Self.isControl(c) ? Self.describe(c) : "'\\\(c)'"
            throw error("invalid escape sequence \(shown)", at: start)
        }
        if let simple {
            out.append(simple)
            advance()
        } else {
            out.append(try scanUnicodeEscape(digits: c == "u" ? 4 : 8, start: start))
        }
    }

    private mutating func scanUnicodeEscape(
        digits: Int, start: TOMLPosition
    ) throws(TOMLParseError) -> Unicode.Scalar {
        advance()  // `u` or `U`
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let c = peek(), let digit = Self.hexValue(c) else {
                throw error("invalid unicode escape: expected \(digits) hexadecimal digits", at: start)
            }
            value = value << 4 | digit  // at most 8 digits, so this fits in 32 bits
            advance()
        }
        guard let scalar = Unicode.Scalar(value) else {
            let hex = String(value, radix: 16, uppercase: true)
            throw error("invalid unicode escape: U+\(hex) is not a Unicode scalar value", at: start)
        }
        return scalar
    }

    private static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": return c.value - 0x30
        case "a"..."f": return c.value - 0x61 + 10
        case "A"..."F": return c.value - 0x41 + 10
        default: return nil
        }
    }

    // MARK: Bare values

    /// Scans an unquoted value: `true`, `false`, an integer or a float.
    mutating func scanBareValue() throws(TOMLParseError) -> TOMLValue {
        let start = position
        var token = String.UnicodeScalarView()
        while let c = peek(), Self.isBareValueChar(c) {
            token.append(c)
            advance()
        }
        let text = String(token)
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if TOMLNumberParser.looksLikeDateTime(Array(token)) {
            throw error("dates and times are not supported", at: start)
        }
        switch TOMLNumberParser.parse(text) {
        case .success(let value): return value
        case .failure(let failure): throw error(failure.message, at: start)
        }
    }
}

import LICTensor
import Testing
@testable import LICCore

@Suite struct TOMLParserTests {

    // MARK: Helpers

    private func parse(_ source: String) throws -> TOMLTable {
        try TOMLParser.parse(source)
    }

    private func parseError(_ source: String) -> TOMLParseError? {
        do {
            _ = try TOMLParser.parse(source)
            return nil
        } catch {
            return error
        }
    }

    private func pos(_ line: Int, _ column: Int) -> TOMLPosition {
        TOMLPosition(line: line, column: column)
    }

    // MARK: Values and positions

    @Test func everyValueKindWithPosition() throws {
        let doc = """
            s = "hello"
              i = -42
            f = 6.5e-1
            b = true
            a = [1, 'x']
            t = { k = false }
            """
        let root = try parse(doc)
        #expect(root.keys == ["s", "i", "f", "b", "a", "t"])
        #expect(root.position == pos(1, 1))

        let s = try #require(root["s"])
        #expect(s.stringValue == "hello")
        #expect(s.typeName == "string")
        #expect(s.position == pos(1, 5))

        let i = try #require(root["i"])
        #expect(i.integerValue == -42)
        #expect(i.typeName == "integer")
        #expect(i.position == pos(2, 7))
        #expect(root.keyPositions["i"] == pos(2, 3))

        let f = try #require(root["f"])
        #expect(f.floatValue == 0.65)
        #expect(f.typeName == "float")
        #expect(f.position == pos(3, 5))

        let b = try #require(root["b"])
        #expect(b.boolValue == true)
        #expect(b.typeName == "boolean")
        #expect(b.position == pos(4, 5))

        let a = try #require(root["a"])
        #expect(a.typeName == "array")
        #expect(a.position == pos(5, 5))
        let items = try #require(a.arrayValue)
        #expect(items.count == 2)
        #expect(items[0].integerValue == 1)
        #expect(items[0].position == pos(5, 6))
        #expect(items[1].stringValue == "x")
        #expect(items[1].position == pos(5, 9))

        let t = try #require(root["t"])
        #expect(t.typeName == "table")
        #expect(t.position == pos(6, 5))
        let inline = try #require(t.tableValue)
        #expect(inline.position == pos(6, 1))  // inline tables report their key's position
        #expect(inline["k"]?.boolValue == false)
        #expect(inline["k"]?.position == pos(6, 11))
        #expect(inline.keyPositions["k"] == pos(6, 7))
    }

    @Test func positionDescriptions() {
        #expect(pos(3, 7).description == "line 3, column 7")
        let error = TOMLParseError(position: pos(2, 4), message: "boom")
        #expect(error.description == "line 2, column 4: boom")
    }

    @Test func valueDescriptions() throws {
        let root = try parse(#"v = [1, -2.5, "a\"b", true, nan, -inf, { k = 'x', "a b" = [] }]"#)
        #expect(root["v"]?.value.description == #"[1, -2.5, "a\"b", true, nan, -inf, {k = "x", "a b" = []}]"#)
    }

    @Test func basicAndLiteralStrings() throws {
        let root = try parse(#"""
            esc = "tab\tnl\nq\"bs\\b\bf\fr\r"
            uni = "\u00E9\U0001F600"
            lit = 'C:\path\no escapes'
            "quoted key" = 1
            'literal key' = 2
            "" = 3
            """#)
        #expect(root["esc"]?.stringValue == "tab\tnl\nq\"bs\\b\u{08}f\u{0C}r\r")
        #expect(root["uni"]?.stringValue == "é😀")
        #expect(root["lit"]?.stringValue == #"C:\path\no escapes"#)
        #expect(root["quoted key"]?.integerValue == 1)
        #expect(root["literal key"]?.integerValue == 2)
        #expect(root[""]?.integerValue == 3)
        #expect(root.keyPositions["literal key"] == pos(5, 1))
    }

    @Test func multiLineStrings() throws {
        let root = try parse(#"""
            a = """
            first
            second"""
            b = """one \
                  two \

                  three"""
            c = '''
            raw \n text'''
            d = """x""""
            e = '''y'''''
            f = """\r\n"""
            """#)
        #expect(root["a"]?.stringValue == "first\nsecond")
        #expect(root["a"]?.position == pos(1, 5))
        #expect(root["b"]?.stringValue == "one two three")
        #expect(root["c"]?.stringValue == #"raw \n text"#)
        #expect(root["d"]?.stringValue == #"x""#)
        #expect(root["e"]?.stringValue == "y''")
        #expect(root["f"]?.stringValue == "\r\n")
        #expect(root.keyPositions["d"] == pos(10, 1))
    }

    @Test func integers() throws {
        let root = try parse("""
            a = +99
            b = 1_000_000
            c = 0xDEAD_beef
            d = 0o755
            e = 0b1101
            f = -0
            max = 9223372036854775807
            min = -9223372036854775808
            hexmax = 0x7FFFFFFFFFFFFFFF
            """)
        #expect(root["a"]?.integerValue == 99)
        #expect(root["b"]?.integerValue == 1_000_000)
        #expect(root["c"]?.integerValue == 0xDEAD_BEEF)
        #expect(root["d"]?.integerValue == 0o755)
        #expect(root["e"]?.integerValue == 0b1101)
        #expect(root["f"]?.integerValue == 0)
        #expect(root["max"]?.integerValue == Int64.max)
        #expect(root["min"]?.integerValue == Int64.min)
        #expect(root["hexmax"]?.integerValue == Int64.max)
    }

    @Test func floats() throws {
        let root = try parse("""
            a = 3.14
            b = -0.01
            c = 5e+22
            d = 1E06
            e = -2E-2
            f = 6.626e-34
            g = 224_617.445_991
            h = inf
            i = -inf
            j = nan
            k = +nan
            l = 0e0
            """)
        #expect(root["a"]?.floatValue == 3.14)
        #expect(root["b"]?.floatValue == -0.01)
        #expect(root["c"]?.floatValue == 5e22)
        #expect(root["d"]?.floatValue == 1e6)
        #expect(root["e"]?.floatValue == -0.02)
        #expect(root["f"]?.floatValue == 6.626e-34)
        #expect(root["g"]?.floatValue == 224_617.445_991)
        #expect(root["h"]?.floatValue == .infinity)
        #expect(root["i"]?.floatValue == -.infinity)
        #expect(root["j"]?.floatValue?.isNaN == true)
        #expect(root["k"]?.floatValue?.isNaN == true)
        #expect(root["l"]?.floatValue == 0)
        #expect(root["a"]?.numberValue == 3.14)
    }

    @Test func keysThatLookLikeOtherThings() throws {
        let root = try parse("""
            1234 = 1
            true = 2
            inf = 3
            3.14 = 4
            bare-key_1 = 5
            """)
        #expect(root.keys == ["1234", "true", "inf", "3", "bare-key_1"])
        #expect(root["3"]?.tableValue?["14"]?.integerValue == 4)
    }

    @Test func arraysAcrossLinesWithComments() throws {
        let root = try parse("""
            list = [  # opening comment
              1,
              [2, 3],   # nested
              "four",
            ]
            empty = []
            mixed = [ { a = 1 }, 2.5 ]
            """)
        let list = try #require(root["list"]?.arrayValue)
        #expect(list.count == 3)
        #expect(list[0].position == pos(2, 3))
        #expect(list[1].arrayValue?.map(\.integerValue) == [2, 3])
        #expect(list[1].arrayValue?[1].position == pos(3, 7))
        #expect(list[2].stringValue == "four")
        #expect(root["empty"]?.arrayValue?.isEmpty == true)
        let mixed = try #require(root["mixed"]?.arrayValue)
        #expect(mixed[0].tableValue?["a"]?.integerValue == 1)
        #expect(mixed[0].tableValue?.position == pos(7, 11))  // no key: the `{` position
        #expect(mixed[1].floatValue == 2.5)
    }

    @Test func windowsLineEndings() throws {
        let root = try parse("a = 1\r\n  b = \"x\"\r\n# note\r\nc = [\r\n 2\r\n]\r\n")
        #expect(root["b"]?.position == pos(2, 7))
        #expect(root["c"]?.arrayValue?.first?.position == pos(5, 2))
    }

    // MARK: Tables

    @Test func dottedKeysCreateNestedTables() throws {
        let root = try parse("""
            a.b.c = 1
            a.b.d = "x"
            site."google.com" = true
            """)
        let a = try #require(root["a"]?.tableValue)
        #expect(a.position == pos(1, 1))
        let b = try #require(a["b"]?.tableValue)
        #expect(b.position == pos(1, 3))
        #expect(b.keys == ["c", "d"])
        #expect(b["c"]?.integerValue == 1)
        #expect(b["d"]?.position == pos(2, 9))
        #expect(b.keyPositions["d"] == pos(2, 5))
        #expect(root["site"]?.tableValue?["google.com"]?.boolValue == true)
    }

    @Test func tableHeaders() throws {
        let root = try parse("""
            top = 0

            [server]
            host = "localhost"

            [server.limits]
            rate = 10

            [ dog . "tater.man" ]
            type = "pug"

            [x.y.z]
            w = 1
            [x]
            v = 2
            """)
        #expect(root.keys == ["top", "server", "dog", "x"])
        let server = try #require(root["server"]?.tableValue)
        #expect(server.position == pos(3, 1))
        #expect(root["server"]?.position == pos(3, 1))
        #expect(root.keyPositions["server"] == pos(3, 2))
        let limits = try #require(server["limits"]?.tableValue)
        #expect(limits.position == pos(6, 1))
        #expect(limits["rate"]?.position == pos(7, 8))
        #expect(root["dog"]?.tableValue?["tater.man"]?.tableValue?["type"]?.stringValue == "pug")
        // `x` is created implicitly by [x.y.z], then defined by [x].
        let x = try #require(root["x"]?.tableValue)
        #expect(x.position == pos(14, 1))
        #expect(x.keys == ["y", "v"])
        #expect(x["y"]?.tableValue?.position == pos(12, 4))  // implicit: key position
        #expect(x["y"]?.tableValue?["z"]?.tableValue?["w"]?.integerValue == 1)
    }

    @Test func headersMayExtendDottedTables() throws {
        let root = try parse("""
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]
            smooth = true
            """)
        let apple = try #require(root["fruit"]?.tableValue?["apple"]?.tableValue)
        #expect(apple.keys == ["color", "texture"])
        #expect(apple["texture"]?.tableValue?["smooth"]?.boolValue == true)
    }

    @Test func inlineTables() throws {
        let root = try parse("""
            point = { x = 1, y = 2 }
            nested = { a = { b = 1 }, c.d = "x" }
            """)
        let point = try #require(root["point"]?.tableValue)
        #expect(point.keys == ["x", "y"])
        #expect(point["y"]?.position == pos(1, 22))
        let nested = try #require(root["nested"]?.tableValue)
        #expect(nested["a"]?.tableValue?["b"]?.integerValue == 1)
        #expect(nested["c"]?.tableValue?["d"]?.stringValue == "x")
        #expect(nested["c"]?.tableValue?.position == pos(2, 27))
    }

    @Test func arrayOfTables() throws {
        let root = try parse("""
            [[stage]]
            name = "analysis"

            [[stage]]
            name = "synthesis"
            [stage.options]
            quality = 7

            [[stage.inputs]]
            id = 1
            [[stage.inputs]]
            id = 2
            """)
        let stage = try #require(root["stage"])
        #expect(stage.typeName == "array")
        #expect(stage.position == pos(1, 1))
        #expect(root.keyPositions["stage"] == pos(1, 3))
        let elements = try #require(stage.arrayValue)
        #expect(elements.count == 2)
        #expect(elements[0].position == pos(1, 1))
        #expect(elements[0].tableValue?["name"]?.stringValue == "analysis")
        #expect(elements[1].position == pos(4, 1))
        let second = try #require(elements[1].tableValue)
        #expect(second.position == pos(4, 1))
        #expect(second.keys == ["name", "options", "inputs"])
        #expect(second["options"]?.tableValue?["quality"]?.integerValue == 7)
        let inputs = try #require(second["inputs"]?.arrayValue)
        #expect(inputs.map { $0.tableValue?["id"]?.integerValue } == [1, 2])
        #expect(inputs[1].position == pos(11, 1))
        #expect(elements[0].tableValue?["options"] == nil)
    }

    @Test func emptyAndCommentOnlyDocuments() throws {
        #expect(try parse("").isEmpty)
        #expect(try parse("\n  \t\n# just a comment\n").isEmpty)
        #expect(try parse("\u{FEFF}a = 1")["a"]?.position == pos(1, 5))
    }

    // MARK: Errors

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var source: String
        var line: Int
        var column: Int
        var message: String  // a fragment of the expected message
        var testDescription: String { "\(message) @ \(line):\(column)" }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(source: "a = 1\nb = 2\na = 3", line: 3, column: 1, message: "duplicate key 'a'"),
        ErrorCase(source: "[t]\nx = 1\n\n[t]", line: 4, column: 2, message: "already defined"),
        ErrorCase(source: "p = { x = 1 }\np.y = 2", line: 2, column: 1, message: "inline table"),
        ErrorCase(source: "p = { x = 1 }\n[p.q]", line: 2, column: 2, message: "inline table"),
        ErrorCase(source: "a = 1\nb = \"open\nc = 2", line: 2, column: 5, message: "unterminated string"),
        ErrorCase(source: "a = '''\nnever closed", line: 1, column: 5, message: "unterminated multi-line string"),
        ErrorCase(source: "\n\ns = \"bad \\q escape\"", line: 3, column: 10, message: "invalid escape"),
        ErrorCase(source: "u = \"\\uD800\"", line: 1, column: 6, message: "invalid unicode escape"),
        ErrorCase(source: "x = 1\ny = 0123", line: 2, column: 5, message: "leading zeros"),
        ErrorCase(source: "big = 9223372036854775808", line: 1, column: 7, message: "out of range"),
        ErrorCase(source: "big = 0x8000000000000000", line: 1, column: 7, message: "out of range"),
        ErrorCase(source: "f = 1.", line: 1, column: 5, message: "invalid number"),
        ErrorCase(source: "ok = 1\nkey \"value\"", line: 2, column: 5, message: "expected '='"),
        ErrorCase(source: "a = 1 2", line: 1, column: 7, message: "after value"),
        ErrorCase(source: "[t] x = 1", line: 1, column: 5, message: "after table header"),
        ErrorCase(source: "c = \"bell\u{07}\"", line: 1, column: 10, message: "control character"),
        ErrorCase(source: "# comment \u{01}", line: 1, column: 11, message: "control character"),
        ErrorCase(source: "d = 1979-05-27", line: 1, column: 5, message: "dates and times are not supported"),
        ErrorCase(source: "t = [07:32:00]", line: 1, column: 6, message: "dates and times are not supported"),
        ErrorCase(source: "a = [1, 2", line: 1, column: 5, message: "unterminated array"),
        ErrorCase(source: "a = [1 2]", line: 1, column: 8, message: "expected ',' or ']'"),
        ErrorCase(source: "a = { b = 1,\n c = 2 }", line: 1, column: 13, message: "newlines"),
        ErrorCase(source: "a = { b = 1, }", line: 1, column: 14, message: "trailing comma"),
        ErrorCase(source: "a = []\n[[a]]", line: 2, column: 3, message: "static array"),
        ErrorCase(source: "[[a]]\n[a]", line: 2, column: 2, message: "array of tables"),
        ErrorCase(source: "[a.b]\n[a]\nb.c = 1", line: 3, column: 1, message: "dotted keys"),
        ErrorCase(source: "[x]\ny.z = 1\n[x.y]", line: 3, column: 4, message: "dotted keys"),
        ErrorCase(source: "a = 1\na.b = 2", line: 2, column: 1, message: "already defined as an integer"),
        ErrorCase(source: "a = hello", line: 1, column: 5, message: "invalid value"),
        ErrorCase(source: "a =\nb = 1", line: 1, column: 4, message: "expected a value"),
        ErrorCase(source: "[]", line: 1, column: 2, message: "expected a key"),
        ErrorCase(source: "[[a]\n", line: 1, column: 5, message: "']]'"),
        ErrorCase(source: "\"\"\"k\"\"\" = 1", line: 1, column: 1, message: "multi-line strings cannot be used as keys"),
        ErrorCase(source: "a = 1\rb = 2", line: 1, column: 6, message: "U+000D"),
    ]

    @Test(arguments: errorCases)
    func errorPositions(_ errorCase: ErrorCase) throws {
        let error = try #require(parseError(errorCase.source))
        #expect(error.position.line == errorCase.line, "\(error)")
        #expect(error.position.column == errorCase.column, "\(error)")
        #expect(error.message.contains(errorCase.message), "\(error)")
    }

    @Test func errorsAreTypedTOMLParseErrors() {
        #expect(throws: TOMLParseError.self) { try TOMLParser.parse("a = ") }
    }

    @Test func duplicateKeyNamesFirstDefinition() throws {
        let error = try #require(parseError("[t]\nkey = 1\n\nkey = 2"))
        #expect(error.position == pos(4, 1))
        #expect(error.message.contains("line 2, column 1"))
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deepArray = "a = " + String(repeating: "[", count: 50_000)
        #expect(parseError(deepArray)?.message.contains("too deep") == true)
        let deepInline = "a = " + String(repeating: "{b=", count: 10_000)
        #expect(parseError(deepInline)?.message.contains("too deep") == true)
        let longKey = Array(repeating: "k", count: 10_000).joined(separator: ".") + " = 1"
        #expect(parseError(longKey)?.message.contains("too deep") == true)
        let longHeader = "[" + Array(repeating: "k", count: 10_000).joined(separator: ".") + "]"
        #expect(parseError(longHeader)?.message.contains("too deep") == true)
        let fine = "a = " + String(repeating: "[", count: 90) + String(repeating: "]", count: 90)
        #expect(parseError(fine) == nil)
    }

    // MARK: Fuzzing


    static let fuzzSeed = """
        # pipeline descriptor
        name = "fuzz \\u00e9 \\t"
        version = 3
        ratio = -1.5e-3
        flags = [true, false, ]
        hex = 0xFF_ff
        lit = 'C:\\dir'
        multi = \"\"\"
        one \\
          two\"\"\"
        raw = '''x''y'''
        point = { x = 1, y.z = "q" }

        [encoder."main net"]
        layers = [
          [1, 2], # inline comment
          [3.5, inf, -nan],
        ]
        a.b.c = 0o17

        [[stage]]
        id = 1
        [stage.opt]
        q = +7
        [[stage]]
        id = 0b101
        """

    /// Bytes that are meaningful to the grammar, to reach deeper error paths.
    static let interestingBytes: [UInt8] = Array(
        "[]{}=,.\"'#\\\n\r\t _-+0123456789exobuUinfa:".utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xFF]

    private func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
        let interesting = Self.interestingBytes
        let randomByte: UInt8 = rng.below(2) == 0
            ? interesting[rng.below(interesting.count)]
            : UInt8(truncatingIfNeeded: rng.next())
        let at = rng.below(bytes.count + 1)
        switch rng.below(5) {
        case 0 where at < bytes.count:
            bytes[at] = randomByte
        case 1:
            bytes.insert(randomByte, at: at)
        case 2 where at < bytes.count:
            bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.below(4)))
        case 3 where at < bytes.count:
            let end = min(bytes.count, at + 1 + rng.below(16))
            bytes.insert(contentsOf: Array(bytes[at..<end]), at: rng.below(bytes.count + 1))
        default:
            bytes.insert(contentsOf: Array(repeating: randomByte, count: 1 + rng.below(8)), at: at)
        }
    }

    /// Every position in a parsed tree must lie inside the document.
    private func checkPositions(_ table: TOMLTable, lines: Int) {
        #expect(table.position.line >= 1 && table.position.line <= lines)
        for key in table.keys {
            guard let node = table[key] else {
                Issue.record("key \(key) listed but missing")
                continue
            }
            checkPositions(node, lines: lines)
        }
    }

    private func checkPositions(_ node: TOMLNode, lines: Int) {
        #expect(node.position.line >= 1 && node.position.line <= lines && node.position.column >= 1)
        switch node.value {
        case .array(let items): items.forEach { checkPositions($0, lines: lines) }
        case .table(let table): checkPositions(table, lines: lines)
        default: break
        }
    }

    @Test func fuzzSeedDocumentIsValid() throws {
        let root = try parse(Self.fuzzSeed)
        #expect(root["stage"]?.arrayValue?.count == 2)
        #expect(root["encoder"]?.tableValue?["main net"]?.tableValue?["a"] != nil)
    }

    @Test func randomMutationsNeverCrash() {
        var rng = SplitMix64(state: 0x5EED_0F_70_4D1)
        let seed = Array(Self.fuzzSeed.utf8)
        var successes = 0
        var failures = 0
        for _ in 0..<2000 {
            var bytes = seed
            for _ in 0..<(1 + rng.below(4)) { mutate(&bytes, &rng) }
            let text = String(decoding: bytes, as: UTF8.self)
            let lines = text.unicodeScalars.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
            do {
                let root = try TOMLParser.parse(text)
                checkPositions(root, lines: lines)
                successes += 1
            } catch {
                // The type system already guarantees `error` is a TOMLParseError.
                #expect(error.position.line >= 1 && error.position.line <= lines)
                #expect(error.position.column >= 1)
                #expect(!error.message.isEmpty)
                failures += 1
            }
        }
        #expect(successes > 0)
        #expect(failures > 0)
    }
}

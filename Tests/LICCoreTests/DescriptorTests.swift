import Testing
@testable import LICCore

/// Descriptor errors name the file, the line and the key at fault.
@Suite struct DescriptorTests {
    static let valid = DefaultPipeline.text

    func error(_ text: String) -> String {
        do {
            _ = try Codec(descriptor: PipelineDescriptor.parse(text, source: "p.toml", baseDirectory: "/"))
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func lineOf(_ needle: String, in text: String) -> Int {
        text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) }! + 1
    }

    @Test func unknownParameter() {
        let text = Self.valid.replacingOccurrences(of: "block = 8\ncolor", with: "block = 8\nblok = 3\ncolor")
        let message = error(text)
        #expect(message.hasPrefix("p.toml:\(lineOf("blok", in: text)):"))
        #expect(message.contains("'blok'") && message.contains("unknown parameter"))
    }

    @Test func wrongType() {
        let text = Self.valid.replacingOccurrences(of: "block = 8\ncolor", with: "block = \"eight\"\ncolor")
        let message = error(text)
        #expect(message.hasPrefix("p.toml:\(lineOf("eight", in: text)):"))
        #expect(message.contains("'block'") && message.contains("must be an integer"))
    }

    @Test func outOfRange() {
        let text = Self.valid.replacingOccurrences(of: "step = 0.05", with: "step = -1.0")
        let message = error(text)
        #expect(message.hasPrefix("p.toml:\(lineOf("step = ", in: text)):") && message.contains("'step'") && message.contains(">="))
    }

    @Test func enumValue() {
        let text = Self.valid.replacingOccurrences(of: "color = \"ycbcr\"\n\n[quantizer]", with: "color = \"lab\"\n\n[quantizer]")
        let message = error(text)
        #expect(message.contains("'color'") && message.contains("one of"))
    }

    @Test func missingRequiredParameter() throws {
        let root = TestSupport.packageRoot
        let directory = try TestSupport.temporaryDirectory()
        try TestSupport.compileC([root + "/examples/c-plugin/deadzone_quantizer.c"], output: directory + "/libdz.so", shared: true)
        let text = Self.valid.replacingOccurrences(of: "name = \"classical-dct\"", with: "name = \"x\"\nplugins = [\"\(directory)/libdz.so\"]")
            .replacingOccurrences(of: "plugin = \"lic.quantizer.uniform\"\nstep = 0.05", with: "plugin = \"org.example.quantizer.deadzone\"")
        let message = error(text)
        #expect(message.hasPrefix("p.toml:\(lineOf("[quantizer]", in: text)):"))
        #expect(message.contains("missing required parameter 'step'"))
    }

    @Test func unknownSectionMissingSectionAndUnknownComponent() {
        #expect(error(Self.valid + "\n[hyper]\nplugin = \"x.y\"\n").contains("[hyper]: not a known section"))
        #expect(error(Self.valid.replacingOccurrences(of: "[entropy]", with: "[entropyy]")).contains("[entropyy]: not a known section"))
        #expect(error("format2 = 3\n" + Self.valid).contains("unknown key 'format2'"))
        let text = Self.valid.replacingOccurrences(of: "lic.entropy.laplace", with: "lic.entropy.nonexistent")
        let message = error(text)
        #expect(message.hasPrefix("p.toml:\(lineOf("[entropy]", in: text)):") && message.contains("no plugin provides"))
    }

    @Test func wrongKindForStage() {
        let text = Self.valid.replacingOccurrences(of: "plugin = \"lic.entropy.laplace\"", with: "plugin = \"lic.quantizer.uniform\"")
        #expect(error(text).contains("[entropy]: 'lic.quantizer.uniform' is a quantizer, this section needs a transform or entropy-model"))
    }

    @Test func syntaxErrorsAndFormat() {
        #expect(error("format = 1\n[analysis\n").hasPrefix("p.toml: line 2"))
        #expect(error(Self.valid.replacingOccurrences(of: "format = 1", with: "format = 2")).contains("unsupported descriptor format 2"))
        #expect(error("name = \"x\"\n").contains("missing key 'format'"))
    }
}

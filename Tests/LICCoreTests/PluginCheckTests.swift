import CLIC
import Foundation
import Testing
@testable import LICCore

/// `lic plugins --check`: the built-in and example plugins pass; broken
/// ones fail with the component and the case named; a crash or a hang is
/// reported by case while the host itself exits normally.
@Suite struct PluginCheckTests {
    let lic = TestSupport.licExecutable

    struct Checked {
        var outcome: TestSupport.Outcome
        /// component id -> case name -> (status, detail)
        var cases: [String: [String: (status: String, detail: String)]]
        var passed: Bool
    }

    /// Runs the check with --json and reads the report.
    func check(_ library: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> Checked {
        let outcome = try TestSupport.run(lic, ["plugins", "--check", library, "--json"] + extra)
        #expect(outcome.exitedNormally, "the host was killed: \(outcome.stderr)", sourceLocation: sourceLocation)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any],
                                    "stdout: \(outcome.stdout) stderr: \(outcome.stderr)", sourceLocation: sourceLocation)
        var cases: [String: [String: (String, String)]] = [:]
        for component in document["components"] as? [[String: Any]] ?? [] {
            let id = component["id"] as? String ?? ""
            for item in component["cases"] as? [[String: Any]] ?? [] {
                cases[id, default: [:]][item["name"] as? String ?? ""] = (item["status"] as? String ?? "", item["detail"] as? String ?? "")
            }
        }
        return Checked(outcome: outcome, cases: cases, passed: document["passed"] as? Bool ?? false)
    }

    func expectAllPass(_ checked: Checked, components: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(checked.outcome.status == 0 && checked.passed, "\(checked.outcome.stdout)", sourceLocation: sourceLocation)
        #expect(checked.cases.count == components, sourceLocation: sourceLocation)
        for (id, cases) in checked.cases {
            for (name, result) in cases where result.status != "pass" {
                Issue.record("\(id) \(name): \(result.status): \(result.detail)", sourceLocation: sourceLocation)
            }
        }
    }

    func compile(_ source: String, _ name: String, flags: [String] = []) throws -> String {
        let output = try TestSupport.temporaryDirectory() + "/lib\(name).so"
        try TestSupport.compileC([source], output: output, shared: true, flags: flags)
        return output
    }

    @Test func theBuiltinClassicalLibraryPasses() throws {
        let checked = try check(TestSupport.buildDirectory + "/liblic-plugin-classical.so")
        expectAllPass(checked, components: 3)
        // Real work behind the verdicts: a round trip coded bytes, a huge input ran under the allocation limit.
        #expect(checked.cases["lic.entropy.laplace"]?["roundtrip"]?.detail.contains("decoded y_hat identical") == true)
        #expect(checked.cases["lic.quantizer.uniform"]?["param.step<min"]?.detail.contains("key 'step': must be >=") == true)
    }

    @Test func theBuiltinLearnedLibraryPasses() throws {
        let started = Date()
        let checked = try check(TestSupport.buildDirectory + "/liblic-plugin-learned.so")
        expectAllPass(checked, components: 14)
        #expect(checked.cases["lic.entropy.checkerboard"]?["inputs"]?.detail.contains("condition [N, 2C, H, W]") == true)
        #expect(Date().timeIntervalSince(started) < 300, "the learned library's check took too long")
    }

    @Test func theCRegularizerExamplePasses() throws {
        let library = try compile(TestSupport.packageRoot + "/examples/c-regularizer/latent_energy.c", "example-energy")
        let checked = try check(library)
        expectAllPass(checked, components: 1)
        #expect(checked.cases["org.example.regularizer.energy"]?["gradient"]?.detail == "gradient reaches y")
    }

    /// The bogus quantizer's error-sink defects fail with the component and
    /// the case; the same source without a defect passes.
    @Test(arguments: [
        ("FAIL_SILENTLY", "roundtrip", "quantize: failed with status 5 without a message"),
        ("FILL_THRICE", "create.defaults", "breaking the fill-once rule"),
        ("FILL_ON_SUCCESS", "create.defaults", "reported an error but returned LIC_OK"),
    ])
    func bogusPluginsFailByCase(defect: String, failingCase: String, reason: String) throws {
        let checked = try check(try compile(PluginLoadingTests.bogusSource, "bogus-\(defect)", flags: ["-D\(defect)"]))
        #expect(checked.outcome.status == 1 && !checked.passed)
        let result = try #require(checked.cases["org.test.quantizer.round"]?[failingCase])
        #expect(result.status == "fail" && result.detail.contains("broke the ABI's rules") && result.detail.contains(reason), "\(result)")
        // The host's schema check still refuses out-of-range values, whatever the plugin does.
        #expect(checked.cases["org.test.quantizer.round"]?["param.level>max"]?.status == "pass")
    }

    @Test func theBogusSourceWithoutADefectPasses() throws {
        expectAllPass(try check(try compile(PluginLoadingTests.bogusSource, "bogus-valid")), components: 1)
    }

    /// Segfault, abort and hang, each named by its case; the other cases still run and pass.
    @Test func crashesAndHangsAreReportedByCase() throws {
        let library = try compile(TestSupport.fixtures + "/plugins/faulty_transform.c", "faulty")
        let checked = try check(library, ["--case-timeout", "4"])
        #expect(checked.outcome.status == 1 && !checked.passed)
        let cases = try #require(checked.cases["org.test.transform.faulty"])
        #expect(cases["shape.odd"]?.status == "crash" && cases["shape.odd"]?.detail.contains("SIGSEGV") == true, "\(String(describing: cases["shape.odd"]))")
        #expect(cases["shape.zero"]?.status == "crash" && cases["shape.zero"]?.detail.contains("SIGABRT") == true, "\(String(describing: cases["shape.zero"]))")
        #expect(cases["shape.1x1"]?.status == "hang" && cases["shape.1x1"]?.detail.contains("within 4 s") == true, "\(String(describing: cases["shape.1x1"]))")
        for name in ["create.defaults", "inputs", "shape.batch2", "determinism", "threads"] {
            #expect(cases[name]?.status == "pass", "\(name): \(String(describing: cases[name]))")
        }
        // The text report names them too.
        let text = try TestSupport.run(lic, ["plugins", "--check", library, "--case-timeout", "4"])
        #expect(text.exitedNormally && text.status == 1)
        #expect(text.stdout.contains("CRASH shape.odd: the worker was killed by SIGSEGV"), "\(text.stdout)")
        #expect(text.stdout.contains("HANG  shape.1x1"), "\(text.stdout)")
    }
}

extension PluginCheckTests {
    /// The library's entry is plugin code too: the listing runs in a worker.
    @Test func aLibraryThatCrashesWhileLoadingIsAnErrorNotACrash() throws {
        let library = try compile(TestSupport.fixtures + "/plugins/faulty_transform.c", "faulty-entry", flags: ["-DCRASH_IN_ENTRY"])
        let outcome = try TestSupport.run(lic, ["plugins", "--check", library])
        #expect(outcome.exitedNormally && outcome.status != 0)
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1 && outcome.stderr.contains(library) && outcome.stderr.contains("SIGABRT"), "\(outcome.stderr)")
    }
}

/// How a case's verdict follows from what the work threw.
@Suite struct CheckVerdictTests {
    @Test func properRefusalsPassWhereAllowedAndBrokenRulesNeverDo() {
        #expect(Expect.successOrRefusal { throw LICError("too small") } == .pass("refused: too small"))
        #expect(Expect.successOrRefusal { throw LICError("x: forward: failed with status 5 without a message", brokenRule: true) }.status == .fail)
        #expect(Expect.successOrRefusal { throw CheckFailure("decoded y_hat differs") } == .fail("decoded y_hat differs"))
        #expect(Expect.success { throw LICError("too small") } == .fail("too small"))
        #expect(Expect.success { "ok" } == .pass("ok"))
        #expect(Expect.refusal(mentioning: "'step'") {} == .fail("accepted, but it should have been refused"))
        #expect(Expect.refusal(mentioning: "'step'") { throw LICError("key 'rate': bad") }.status == .fail)
        #expect(Expect.refusal(mentioning: "'step'") { throw LICError("key 'step': bad") }.status == .pass)
    }

    @Test func callPluginMarksBrokenRulesOnly() {
        func error(_ body: (UnsafeMutablePointer<lic_error>) -> lic_status) -> LICError? {
            do { try callPlugin("org.test.c", "forward", body); return nil } catch { return error as? LICError }
        }
        #expect(error { lic_error_set($0, LIC_ERROR_INVALID_ARGUMENT, "bad shape") }?.brokenRule == false)
        #expect(error { _ in LIC_ERROR_INTERNAL }?.brokenRule == true)
        #expect(error { lic_error_set($0, LIC_ERROR_INTERNAL, "oops"); return LIC_OK }?.brokenRule == true)
    }
}

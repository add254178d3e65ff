import Foundation

/// The worker side of `lic plugins --check`: a child process that loads the
/// library (and the built-in plugins, for the default quantizer) and either
/// lists the components and their cases or runs some cases of one component,
/// reporting each as it starts and ends. A crash or hang kills only the
/// worker; the supervisor names the case that was running.
public enum CheckWorker {
    /// Lists the library's components with their planned cases.
    public static func list(library: String, output: (String) -> Void) throws {
        let (name, subjects) = try load(library)
        output(CheckEvent(event: .library, name: name).line)
        for subject in subjects {
            output(CheckEvent(event: .component, name: subject.info.id, kind: subject.info.kind.rawValue,
                              interface: subject.info.interfaceID, cases: CheckPlan.cases(subject).map(\.name)).line)
        }
    }

    /// Runs the named cases of `component`, in plan order.
    public static func run(library: String, component: String, cases names: [String], output: (String) -> Void) throws {
        let (_, subjects) = try load(library)
        guard let subject = subjects.first(where: { $0.info.id == component }) else {
            throw LICError("\(library) offers no component '\(component)'")
        }
        let wanted = Set(names)
        for check in CheckPlan.cases(subject) where wanted.contains(check.name) {
            output(CheckEvent(event: .start, case: check.name).line)
            let outcome: CheckOutcome
            do { outcome = try check.run() } catch { outcome = .fail(Expect.describe(error)) }
            output(CheckEvent(event: .end, case: check.name, outcome: outcome).line)
        }
    }

    /// The library's name and its components, after loading it and then the built-ins.
    static func load(_ library: String) throws -> (String, [CheckSubject]) {
        let registry = PluginRegistry.shared
        try registry.loadLibrary(at: library)
        try registry.load(PluginSearchPath(locations: PluginSearchPath.builtinDirectories().map { .directory($0, .builtinPlugins) }))
        let path = URL(fileURLWithPath: library).resolvingSymlinksInPath().path
        let components = registry.allComponents.filter { $0.libraryPath == path }
        let subjects = components.compactMap { info in registry.entry(info.id).map { CheckSubject($0, registry: registry) } }
        return (components.first?.libraryName ?? (path as NSString).lastPathComponent, subjects)
    }
}

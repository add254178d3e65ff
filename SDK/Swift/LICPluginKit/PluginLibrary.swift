import CLIC
#if canImport(Glibc)
import Glibc
#endif

/// The Swift runtime a plugin needs, "swift-MAJOR.MINOR". Swift has no stable
/// ABI on Linux, so the host refuses a plugin built by another toolchain.
public let swiftRuntimeName: String = {
    #if compiler(>=7.0)
    return "swift-7+"
    #elseif compiler(>=6.5)
    return "swift-6.5"
    #elseif compiler(>=6.4)
    return "swift-6.4"
    #elseif compiler(>=6.3)
    return "swift-6.3"
    #elseif compiler(>=6.2)
    return "swift-6.2"
    #else
    return "swift-6.1-or-older"
    #endif
}()

/// Builds the static C tables of a plugin library from Swift declarations.
///
///     @c func lic_plugin_entry(_ abi: UInt32, _ host: UnsafePointer<lic_host_services>?)
///         -> UnsafePointer<lic_plugin_library>? {
///         PluginLibrary.entry(abi: abi, host: host, name: "My plugins", components: [...])
///     }
public enum PluginLibrary {
    nonisolated(unsafe) private static var built: UnsafePointer<lic_plugin_library>?

    /// Returns the library's entry table, or nil when the host speaks another ABI major
    /// (or an older minor than this SDK). The host calls this under its loader lock.
    public static func entry(abi hostVersion: UInt32, host: UnsafePointer<lic_host_services>?, name: String,
                             components: @autoclosure () -> [Component]) -> UnsafePointer<lic_plugin_library>? {
        guard (hostVersion >> 16) == LIC_ABI_VERSION_MAJOR, (hostVersion & 0xFFFF) >= LIC_ABI_VERSION_MINOR,
              let host else { return nil }
        Bridge.host = Host(services: host)
        if let built { return built }
        let entry = UnsafeMutablePointer<lic_plugin_library>.allocate(capacity: 1)
        let list = components().map(descriptor)
        let pointers = UnsafeMutablePointer<UnsafePointer<lic_component_descriptor>?>.allocate(capacity: max(list.count, 1))
        for (index, descriptor) in list.enumerated() { pointers[index] = descriptor }
        entry.initialize(to: lic_plugin_library(
            struct_size: UInt32(MemoryLayout<lic_plugin_library>.size), abi_version: LIC_ABI_VERSION,
            library_name: staticString(name), runtime: staticString(swiftRuntimeName),
            component_count: UInt32(list.count), components: UnsafePointer(pointers)))
        built = UnsafePointer(entry)
        return built
    }

    /// A C string that lives as long as the (resident, never unloaded) library.
    private static func staticString(_ string: String) -> UnsafePointer<CChar> {
        UnsafePointer(strdup(string)!)
    }

    private static func descriptor(_ component: Component) -> UnsafePointer<lic_component_descriptor> {
        let specs = UnsafeMutablePointer<lic_param_spec>.allocate(capacity: max(component.params.count, 1))
        for (index, param) in component.params.enumerated() { specs.advanced(by: index).initialize(to: spec(param)) }
        let factory = Unmanaged.passRetained(Bridge.Factory(component.make)).toOpaque()
        let descriptor = UnsafeMutablePointer<lic_component_descriptor>.allocate(capacity: 1)
        descriptor.initialize(to: lic_component_descriptor(
            struct_size: UInt32(MemoryLayout<lic_component_descriptor>.size), version: component.version,
            id: staticString(component.id), kind: component.kind.rawValue, interface_id: staticString(component.interfaceID),
            description: staticString(component.description), param_count: UInt32(component.params.count),
            params: UnsafePointer(specs), interface: component.interface, component_data: UnsafeRawPointer(factory)))
        return UnsafePointer(descriptor)
    }

    private static func spec(_ param: ParamSpec) -> lic_param_spec {
        var spec = lic_param_spec()
        spec.struct_size = UInt32(MemoryLayout<lic_param_spec>.size)
        spec.name = staticString(param.name)
        spec.description = staticString(param.description)
        spec.required = param.isRequired ? 1 : 0
        switch param.type {
        case .bool: spec.type = LIC_PARAM_BOOL.rawValue
        case .int: spec.type = LIC_PARAM_INT.rawValue
        case .float: spec.type = LIC_PARAM_FLOAT.rawValue
        case .string: spec.type = LIC_PARAM_STRING.rawValue
        case .enumeration(let values):
            spec.type = LIC_PARAM_ENUM.rawValue
            let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(values.count, 1))
            for (index, value) in values.enumerated() { array[index] = staticString(value) }
            spec.enum_values = UnsafePointer(array)
            spec.enum_count = UInt32(values.count)
        }
        switch param.defaultValue {
        case .none: break
        case .bool(let value): spec.default_bool = value ? 1 : 0
        case .int(let value): spec.default_int = value
        case .float(let value): spec.default_float = value
        case .string(let value): spec.default_string = staticString(value)
        }
        if let minimum = param.minimum { spec.has_min = 1; spec.min = minimum }
        if let maximum = param.maximum { spec.has_max = 1; spec.max = maximum }
        return spec
    }
}

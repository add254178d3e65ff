/// Schema edge cases, the same for every kind: create with the defaults;
/// every number at its declared bounds (the component must work there or
/// refuse through the error sink) and just outside them (the host's schema
/// check must refuse it before the plugin sees it); every enum value and the
/// other boolean; odd strings; a wrong type and a missing required value.
enum ParameterCases {
    /// `smoke` makes an instance from the parameters and does one small piece
    /// of work with it, returning what it saw.
    static func cases(_ subject: CheckSubject,
                      smoke: @escaping (ParamSetStorage, [String: ParamValue]) throws -> String) -> [CheckCase] {
        var cases = [CheckCase(name: "create.defaults") {
            Expect.success {
                _ = try subject.instance(try subject.parameters(defaults: true))
                return "created and destroyed"
            }
        }]
        /// A value the component must accept or refuse properly.
        func within(_ name: String, _ key: String, _ value: ParamValue) {
            cases.append(CheckCase(name: "param.\(key)=\(name)") {
                Expect.successOrRefusal {
                    var values = subject.base
                    values[key] = value
                    return try smoke(try subject.parameters([key: value]), values)
                }
            })
        }
        /// A value the host must refuse, naming the key.
        func outside(_ name: String, _ key: String, _ value: ParamValue?) {
            cases.append(CheckCase(name: "param.\(key)\(name)") {
                Expect.refusal(mentioning: "'\(key)'") { _ = try subject.parameters([key: value]) }
            })
        }
        for schema in subject.info.params {
            let key = schema.name
            switch schema.type {
            case .int:
                if let min = schema.minimum {
                    within("min", key, .int(Int64(min.rounded(.up))))
                    if min > -9.2e18 { outside("<min", key, .int(Int64(min.rounded(.up)) - 1)) }
                } else {
                    within("int64-min", key, .int(.min))
                }
                if let max = schema.maximum {
                    within("max", key, .int(Int64(max.rounded(.down))))
                    if max < 9.2e18 { outside(">max", key, .int(Int64(max.rounded(.down)) + 1)) }
                } else {
                    within("int64-max", key, .int(.max))
                }
            case .float:
                if let min = schema.minimum {
                    within("min", key, .float(min))
                    outside("<min", key, .float(min - Swift.max(1, abs(min))))
                } else {
                    within("-inf", key, .float(-.infinity))
                }
                if let max = schema.maximum {
                    within("max", key, .float(max))
                    outside(">max", key, .float(max + Swift.max(1, abs(max))))
                } else {
                    within("inf", key, .float(.infinity))
                }
                outside("=nan", key, .float(.nan))
            case .bool:
                if case .bool(let b) = subject.base[key] { within("\(!b)", key, .bool(!b)) }
            case .enumeration:
                for value in schema.enumValues where subject.base[key] != .string(value) { within(value, key, .string(value)) }
                outside("=unlisted", key, .string("not-a-listed-value"))
            case .string:
                within("empty", key, .string(""))
                within("long", key, .string(String(repeating: "s", count: 4096)))
            }
            outside("=wrong-type", key, schema.type == .int || schema.type == .float ? .string("1") : .int(1))
            if schema.required { outside("=missing", key, nil) }
        }
        return cases
    }
}

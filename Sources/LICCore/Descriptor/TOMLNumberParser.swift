// Validation and conversion of TOML integer and float tokens. Works on the
// token text alone; the scanner attaches the source position to failures.

struct TOMLNumberFailure: Error {
    var message: String
}

enum TOMLNumberParser {
    /// `YYYY-...` (date) or `HH:...` (time): reported as unsupported instead of
    /// as a malformed number.
    static func looksLikeDateTime(_ token: [Unicode.Scalar]) -> Bool {
        func isDigit(_ i: Int) -> Bool {
            i < token.count && ("0"..."9").contains(token[i])
        }
        if token.count >= 5 && (0..<4).allSatisfy(isDigit) && token[4] == "-" {
            return true
        }
        return token.count >= 3 && isDigit(0) && isDigit(1) && token[2] == ":"
    }

    static func parse(_ token: String) -> Result<TOMLValue, TOMLNumberFailure> {
        var body = Substring(token)
        var negative = false
        var signed = false
        if let first = body.first, first == "+" || first == "-" {
            signed = true
            negative = first == "-"
            body = body.dropFirst()
        }
        if body == "inf" { return .success(.float(negative ? -.infinity : .infinity)) }
        if body == "nan" { return .success(.float(negative ? -.nan : .nan)) }
        guard let first = body.first, first.isASCII && first.isNumber else {
            return .failure(TOMLNumberFailure(
                message: "invalid value '\(token)' (strings must be quoted)"))
        }
        if let radix = radixPrefix(body) {
            if signed {
                return .failure(TOMLNumberFailure(
                    message: "invalid number '\(token)': a sign is not allowed with a 0x, 0o or 0b prefix"))
            }
            return parseRadix(body.dropFirst(2), radix: radix, token: token)
        }
        if body.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return parseFloat(body, negative: negative, token: token)
        }
        return parseDecimal(body, negative: negative, token: token)
    }

    private static func radixPrefix(_ body: Substring) -> Int? {
        switch body.prefix(2) {
        case "0x": return 16
        case "0o": return 8
        case "0b": return 2
        default: return nil
        }
    }

    private static func failure(_ token: String, _ reason: String) -> Result<TOMLValue, TOMLNumberFailure> {
        .failure(TOMLNumberFailure(message: "invalid number '\(token)': \(reason)"))
    }

    /// Digits with single underscores between them, e.g. `1_000`.
    /// Returns the digit values, or a reason for rejecting them.
    private static func digits(_ text: Substring, radix: Int) -> Result<[Int64], TOMLNumberFailure> {
        guard !text.isEmpty else {
            return .failure(TOMLNumberFailure(message: "expected digits"))
        }
        var values: [Int64] = []
        var previousWasDigit = false
        for c in text {
            if c == "_" {
                guard previousWasDigit else {
                    return .failure(TOMLNumberFailure(message: "underscores must be between digits"))
                }
                previousWasDigit = false
                continue
            }
            guard let value = c.hexDigitValue, value < radix else {
                return .failure(TOMLNumberFailure(message: "unexpected character '\(c)'"))
            }
            values.append(Int64(value))
            previousWasDigit = true
        }
        guard previousWasDigit else {
            return .failure(TOMLNumberFailure(message: "underscores must be between digits"))
        }
        return .success(values)
    }

    private static func parseDecimal(
        _ body: Substring, negative: Bool, token: String
    ) -> Result<TOMLValue, TOMLNumberFailure> {
        let values: [Int64]
        switch digits(body, radix: 10) {
        case .success(let v): values = v
        case .failure(let f): return failure(token, f.message)
        }
        if values.count > 1 && values.first == 0 {
            return failure(token, "leading zeros are not allowed")
        }
        // Accumulate as a negative number so that Int64.min is representable.
        var result: Int64 = 0
        for digit in values {
            let (shifted, o1) = result.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.subtractingReportingOverflow(digit)
            if o1 || o2 { return failure(token, "out of range for a 64-bit integer") }
            result = next
        }
        if !negative {
            let (positive, overflow) = Int64(0).subtractingReportingOverflow(result)
            if overflow { return failure(token, "out of range for a 64-bit integer") }
            result = positive
        }
        return .success(.integer(result))
    }

    private static func parseRadix(
        _ body: Substring, radix: Int, token: String
    ) -> Result<TOMLValue, TOMLNumberFailure> {
        let values: [Int64]
        switch digits(body, radix: radix) {
        case .success(let v): values = v
        case .failure(let f): return failure(token, f.message)
        }
        var result: Int64 = 0
        for digit in values {
            let (shifted, o1) = result.multipliedReportingOverflow(by: Int64(radix))
            let (next, o2) = shifted.addingReportingOverflow(digit)
            if o1 || o2 { return failure(token, "out of range for a 64-bit integer") }
            result = next
        }
        return .success(.integer(result))
    }

    /// `int-part ( exp / frac [exp] )`, where the integer part has no leading
    /// zeros and fraction and exponent may (e.g. `1.05e007`).
    private static func parseFloat(
        _ body: Substring, negative: Bool, token: String
    ) -> Result<TOMLValue, TOMLNumberFailure> {
        let exponentSplit = body.split(
            maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: { $0 == "e" || $0 == "E" })
        let mantissa = exponentSplit[0]
        let fractionSplit = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integerPart = fractionSplit[0]

        var parts: [(Substring, String)] = [(integerPart, "integer part")]
        if fractionSplit.count > 1 { parts.append((fractionSplit[1], "fraction")) }
        if exponentSplit.count > 1 {
            var exponent = exponentSplit[1]
            if let sign = exponent.first, sign == "+" || sign == "-" { exponent = exponent.dropFirst() }
            parts.append((exponent, "exponent"))
        }
        for (text, name) in parts {
            if case .failure(let f) = digits(text, radix: 10) {
                return failure(token, "\(f.message) in the \(name)")
            }
        }
        if integerPart.count > 1 && integerPart.first == "0" {
            return failure(token, "leading zeros are not allowed")
        }
        let cleaned = String((negative ? "-" : "") + body.filter { $0 != "_" })
        guard let value = Double(cleaned) else { return failure(token, "not a valid float") }
        guard value.isFinite else { return failure(token, "out of range for a 64-bit float") }
        return .success(.float(value))
    }
}

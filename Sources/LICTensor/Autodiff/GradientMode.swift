/// Whether ops record the tape. Inference (`withoutGradients`) records
/// nothing, so intermediate tensors are freed as soon as they are unused.
public enum GradientMode {
    @TaskLocal static var isDisabled = false

    public static var isRecording: Bool { !isDisabled }

    /// Runs `body` without recording (inference, optimizer updates, evaluation).
    public static func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        try $isDisabled.withValue(true) { try body() }
    }
}

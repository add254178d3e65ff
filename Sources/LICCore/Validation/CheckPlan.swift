/// Every case of a component, in the order they run: the schema cases,
/// then the cases of its kind. The plan depends only on the component's
/// declaration, so the listing worker and the running workers agree on it.
enum CheckPlan {
    static func cases(_ subject: CheckSubject) -> [CheckCase] {
        switch subject.info.kind {
        case .transform: ParameterCases.cases(subject, smoke: TransformChecks.smoke(subject)) + TransformChecks.cases(subject)
        case .entropyModel: ParameterCases.cases(subject, smoke: EntropyChecks.smoke(subject)) + EntropyChecks.cases(subject)
        case .quantizer: ParameterCases.cases(subject, smoke: QuantizerChecks.smoke(subject)) + QuantizerChecks.cases(subject)
        case .regularizer: ParameterCases.cases(subject, smoke: RegularizerChecks.smoke(subject)) + RegularizerChecks.cases(subject)
        }
    }
}

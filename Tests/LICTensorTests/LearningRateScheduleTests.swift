import Foundation
import Testing
@testable import LICTensor

@Suite struct LearningRateScheduleTests {
    @Test func values() throws {
        let constant = LearningRateSchedule()
        #expect(constant.factor(atStep: 0) == 1 && constant.factor(atStep: 1_000_000) == 1)

        let step = LearningRateSchedule(decay: .step(every: 10, factor: 0.5))
        #expect(step.factor(atStep: 0) == 1)
        #expect(step.factor(atStep: 9) == 1)
        #expect(step.factor(atStep: 10) == 0.5)
        #expect(step.factor(atStep: 25) == 0.25)

        let cosine = LearningRateSchedule(decay: .cosine(totalSteps: 100, minimumFactor: 0.1))
        #expect(cosine.factor(atStep: 0) == 1)
        #expect(abs(cosine.factor(atStep: 50) - 0.55) < 1e-12)
        #expect(abs(cosine.factor(atStep: 25) - (0.1 + 0.9 * 0.5 * (1 + 0.5.squareRoot()))) < 1e-12)
        #expect(cosine.factor(atStep: 100) == 0.1)
        #expect(cosine.factor(atStep: 1000) == 0.1)
        #expect(cosine.factor(atStep: 99) > 0.1)

        let warm = LearningRateSchedule(warmupSteps: 4, decay: .cosine(totalSteps: 100, minimumFactor: 0))
        #expect(warm.factor(atStep: 0) == 0.25)
        #expect(abs(warm.factor(atStep: 3) - 0.5 * (1 + cos(Double.pi * 3 / 100))) < 1e-12)
        #expect(abs(warm.factor(atStep: 4) - 0.5 * (1 + cos(Double.pi * 4 / 100))) < 1e-12)
        #expect(warm.factor(atStep: 100) == 0)

        // Over seconds of training: the step does not matter, the elapsed time does.
        let timed = try LearningRateSchedule(parsing: "cosine-time:3600:0.05,warmup:10")
        #expect(timed.decay == .cosineTime(seconds: 3600, minimumFactor: 0.05) && timed.description == "cosine-time:3600.0:0.05,warmup:10")
        #expect(try LearningRateSchedule(parsing: timed.description) == timed)
        #expect(timed.factor(atStep: 500, elapsed: 0) == 1 && timed.factor(atStep: 5, elapsed: 0) == 0.6)
        #expect(abs(timed.factor(atStep: 500, elapsed: 1800) - 0.525) < 1e-12)
        #expect(timed.factor(atStep: 500, elapsed: 7200) == 0.05)
        #expect(throws: (any Error).self) { try LearningRateSchedule(parsing: "cosine-time:0:0.1") }
        #expect(throws: (any Error).self) { try LearningRateSchedule(parsing: "cosine-time:60:2") }
    }

    @Test func parsing() throws {
        #expect(try LearningRateSchedule(parsing: "constant") == LearningRateSchedule())
        #expect(try LearningRateSchedule(parsing: "step:1000:0.5") == LearningRateSchedule(decay: .step(every: 1000, factor: 0.5)))
        #expect(try LearningRateSchedule(parsing: "cosine:100000:0.01,warmup:500")
                == LearningRateSchedule(warmupSteps: 500, decay: .cosine(totalSteps: 100000, minimumFactor: 0.01)))
        #expect(try LearningRateSchedule(parsing: "warmup:10, step:5:0.1")
                == LearningRateSchedule(warmupSteps: 10, decay: .step(every: 5, factor: 0.1)))
        #expect(try LearningRateSchedule(parsing: "warmup:10") == LearningRateSchedule(warmupSteps: 10))
        for text in ["constant", "step:1000:0.5", "cosine:100000:0.01,warmup:500"] {
            let schedule = try LearningRateSchedule(parsing: text)
            #expect(try LearningRateSchedule(parsing: schedule.description) == schedule)
            try schedule.validate()
        }
    }

    @Test(arguments: [
        ("linear", "linear"),
        ("step:0:0.5", "0"),
        ("step:ten:0.5", "ten"),
        ("step:10", "step:10"),
        ("step:10:-1", "-1"),
        ("step:10:x", "x"),
        ("cosine:100:2", "2"),
        ("cosine:100:0.1:3", "cosine:100:0.1:3"),
        ("constant:1", "constant:1"),
        ("constant,warmup:-1", "-1"),
        ("constant,warmup", "warmup"),
        ("step:10:0.5,cosine:5:0.1", "cosine:5:0.1"),
        ("constant,warmup:1,warmup:2", "warmup:2"),
        ("constant,", ""),
        ("", ""),
    ])
    func parserErrorsNameTheToken(text: String, token: String) {
        do {
            let schedule = try LearningRateSchedule(parsing: text)
            Issue.record("'\(text)' parsed as \(schedule)")
        } catch {
            #expect("\(error)".contains("bad token '\(token)'"), "\(error)")
        }
    }

    @Test func validateRejectsOutOfRange() {
        #expect(throws: TensorError.self) { try LearningRateSchedule(warmupSteps: -1).validate() }
        #expect(throws: TensorError.self) { try LearningRateSchedule(decay: .step(every: 0, factor: 0.5)).validate() }
        #expect(throws: TensorError.self) { try LearningRateSchedule(decay: .cosine(totalSteps: 10, minimumFactor: -0.5)).validate() }
    }
}

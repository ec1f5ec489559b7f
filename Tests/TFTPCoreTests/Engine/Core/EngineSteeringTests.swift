import Testing

@testable import TFTPCore

@Suite struct EngineSteeringTests {
    private let second: UInt64 = 1_000_000_000
    private let tenth: UInt64 = 100_000_000

    /// Spread by two saturated looks with a free core.
    private func spread() -> EngineSteering {
        var steering = EngineSteering()
        _ = steering.sample(busy: [1, 0], available: 2, start: 0, now: tenth)
        _ = steering.sample(busy: [1, 0], available: 2, start: tenth, now: 2 * tenth)
        return steering
    }

    @Test func startsConcentratedAndStaysWhileTheFirstThreadHasRoom() {
        var steering = EngineSteering()
        #expect(steering.mode == .concentrated)
        for look in 0..<10 {
            let start = UInt64(look) * tenth
            #expect(steering.sample(busy: [0.85, 0], available: 2, start: start, now: start + tenth) == .stay)
        }
        #expect(steering.mode == .concentrated)
    }

    @Test func spreadsWhenTheFirstThreadIsSaturatedTwiceAndACoreIsFree() {
        var steering = EngineSteering()
        #expect(steering.sample(busy: [0.95, 0], available: 1.6, start: 0, now: tenth) == .stay)
        #expect(steering.sample(busy: [0.95, 0], available: 1.6, start: tenth, now: 2 * tenth) == .spread)
        #expect(steering.mode == .spread)
        #expect(steering.sample(busy: [0.9, 0.9], available: 1.9, start: 2 * tenth, now: 3 * tenth) == .stay)
    }

    @Test func aSaturatedThreadStaysAloneWhenTheOtherCoresAreTaken() {
        // The first thread saturated, but another process keeps a core of two busy: a second
        // thread would only take turns with it.
        var steering = EngineSteering()
        for look in 0..<20 {
            let start = UInt64(look) * tenth
            #expect(steering.sample(busy: [1, 0], available: 1.1, start: start, now: start + tenth) == .stay)
        }
        #expect(steering.mode == .concentrated)
        // Unknown host figures do not hold it back.
        #expect(steering.sample(busy: [1, 0], available: nil, start: 0, now: tenth) == .stay)
        #expect(steering.sample(busy: [1, 0], available: nil, start: tenth, now: 2 * tenth) == .spread)
    }

    @Test func oneSaturatedLookIsNotEnough() {
        var steering = EngineSteering()
        #expect(steering.sample(busy: [1, 0], available: 2, start: 0, now: tenth) == .stay)
        #expect(steering.sample(busy: [0.5, 0], available: 2, start: tenth, now: 2 * tenth) == .stay)
        #expect(steering.sample(busy: [1, 0], available: 2, start: 2 * tenth, now: 3 * tenth) == .stay)
        #expect(steering.mode == .concentrated)
    }

    @Test func concentratesOnlyAfterTheCalmHasLasted() {
        var steering = spread()
        var now = 2 * tenth
        // Low, but not for long enough: together below the threshold for 1.9 s.
        for _ in 0..<19 {
            #expect(steering.sample(busy: [0.1, 0.1], available: 2, start: now, now: now + tenth) == .stay)
            now += tenth
        }
        // A busy look in between starts the calm again.
        #expect(steering.sample(busy: [0.3, 0.1], available: 2, start: now, now: now + tenth) == .stay)
        now += tenth
        for _ in 0..<19 {
            #expect(steering.sample(busy: [0.1, 0.1], available: 2, start: now, now: now + tenth) == .stay)
            now += tenth
        }
        #expect(steering.sample(busy: [0.1, 0.1], available: 2, start: now, now: now + tenth) == .concentrate)
        #expect(steering.mode == .concentrated)
    }

    @Test func concentratesWhenAnotherProcessTakesTheSpareCore() {
        var steering = spread()
        var now = 2 * tenth
        for _ in 0..<19 {
            #expect(steering.sample(busy: [0.6, 0.6], available: 1.0, start: now, now: now + tenth) == .stay)
            now += tenth
        }
        #expect(steering.sample(busy: [0.6, 0.6], available: 1.0, start: now, now: now + tenth) == .concentrate)
    }

    @Test func aLongQuietIntervalCountsWhole() {
        var steering = spread()
        #expect(
            steering.sample(busy: [0.001, 0], available: 2, start: 2 * tenth, now: 2 * tenth + 3 * second)
                == .concentrate)
    }

    @Test func betweenTheThresholdsNothingChanges() {
        // Spread needs 1.5 free cores, staying spread 1.25; a host at 1.4 keeps whatever
        // mode it finds, and so does a load between 0.35 of one thread and saturation.
        var concentrated = EngineSteering()
        var spread = spread()
        var now = 2 * tenth
        for _ in 0..<50 {
            #expect(concentrated.sample(busy: [1, 0], available: 1.4, start: now, now: now + tenth) == .stay)
            #expect(spread.sample(busy: [0.9, 0.9], available: 1.4, start: now, now: now + tenth) == .stay)
            #expect(concentrated.sample(busy: [0.5, 0], available: 2, start: now, now: now + tenth) == .stay)
            #expect(spread.sample(busy: [0.25, 0.2], available: 2, start: now, now: now + tenth) == .stay)
            now += tenth
        }
        #expect(concentrated.mode == .concentrated && spread.mode == .spread)
    }

    @Test func oneThreadIsNeverSteered() {
        var steering = EngineSteering()
        #expect(steering.sample(busy: [1], available: 2, start: 0, now: second) == .stay)
        #expect(steering.sample(busy: [1], available: 2, start: second, now: 2 * second) == .stay)
        #expect(steering.mode == .concentrated)
    }
}

import Synchronization

/// HTTP dates (RFC 9110 §5.6.7): IMF-fixdate out; in, the three forms a recipient must
/// accept: IMF-fixdate, the obsolete RFC 850 form (two-digit year) and asctime. A date that
/// is none of them is ignored, as the RFC allows for If-Modified-Since.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The last second formatted for a Date header, shared by the event loops: a response
    /// reads it under an uncontended lock instead of formatting the same second again.
    private static let lastFormatted = Mutex<(seconds: Int, text: String)>((-1, ""))

    /// ``format(_:)``, remembered for the current second (for the Date header of every response).
    public static func formatNow(_ epochSeconds: Int) -> String {
        if let text = lastFormatted.withLock({ $0.seconds == epochSeconds ? $0.text : nil }) { return text }
        let text = format(epochSeconds)
        lastFormatted.withLock { $0 = (epochSeconds, text) }
        return text
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` for seconds since the epoch.
    public static func format(_ epochSeconds: Int) -> String {
        let dayCount = epochSeconds >= 0 ? epochSeconds / 86400 : (epochSeconds - 86399) / 86400
        let secondOfDay = epochSeconds - dayCount * 86400
        let (year, month, day) = civil(fromDays: dayCount)
        let weekday = ((dayCount % 7) + 7 + 4) % 7  // 1970-01-01 was a Thursday
        return "\(days[weekday]), \(two(day)) \(months[month - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }

    /// Seconds since the epoch, or nil:
    /// - `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate),
    /// - `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850; a two-digit year more than 50 years after
    ///   `now` is read as the most recent past year with those digits, RFC 9110 §5.6.7),
    /// - `Sun Nov  6 08:49:37 1994` (asctime).
    public static func parse(_ text: String, now: Int? = nil) -> Int? {
        let parts = text.split(separator: " ")
        let day: Int?
        let month: Int?
        let year: Int?
        let clock: Substring
        if parts.count == 6, parts[0].count == 4, parts[0].hasSuffix(","), parts[5] == "GMT",
            days.contains(String(parts[0].dropLast()))
        {
            (day, month, year, clock) = (
                Int(parts[1]), months.firstIndex(of: String(parts[2])), Int(parts[3]), parts[4]
            )
            guard parts[1].count == 2, parts[3].count == 4 else { return nil }
        } else if parts.count == 4, parts[0].hasSuffix(","), parts[3] == "GMT",
            longDays.contains(String(parts[0].dropLast()))
        {
            let date = parts[1].split(separator: "-", omittingEmptySubsequences: false)
            guard date.count == 3, date[0].count == 2, date[2].count == 2, let short = Int(date[2]) else { return nil }
            (day, month, clock) = (Int(date[0]), months.firstIndex(of: String(date[1])), parts[2])
            let thisYear = civil(fromDays: (now ?? HTTPClock.now) / 86400).0
            var full = thisYear - thisYear % 100 + short
            if full > thisYear + 50 { full -= 100 }
            year = full
        } else if parts.count == 5, days.contains(String(parts[0])), text.count == 24 {
            // asctime pads a one-digit day with a space: "Nov  6" splits like "Nov 16".
            (month, day, clock, year) = (
                months.firstIndex(of: String(parts[1])), Int(parts[2]), parts[3], Int(parts[4])
            )
        } else {
            return nil
        }
        guard let day, let month, let year, (1...31).contains(day), (1970...9999).contains(year) else { return nil }
        let time = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard time.count == 3, time.allSatisfy({ $0.count == 2 }), let hour = Int(time[0]), let minute = Int(time[1]),
            let second = Int(time[2]), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        return days(fromCivil: year, month + 1, day) * 86400 + hour * 3600 + minute * 60 + second
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Howard Hinnant's days-from-civil and its inverse (proleptic Gregorian calendar).
    private static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    private static func civil(fromDays count: Int) -> (Int, Int, Int) {
        let z = count + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

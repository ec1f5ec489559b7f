/// Byte-for-byte equality, without printing megabytes when an expectation on it fails.
func identical(_ got: [UInt8], _ expected: [UInt8]) -> Bool {
    got == expected
}

/// Where something was written: a dialog file, line and column (1-based), for diagnostics.
public struct SourceRef: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static let unknown = SourceRef(file: "<unknown>", line: 0, column: 0)

    public var description: String { "\(file):\(line):\(column)" }

    /// The position `offset` characters further along the same line (for a spot inside an expression).
    public func advanced(by offset: Int) -> SourceRef {
        SourceRef(file: file, line: line, column: column + offset)
    }
}

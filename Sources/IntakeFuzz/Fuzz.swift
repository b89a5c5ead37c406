import Foundation
import IntakeFuzzing

// libFuzzer's entry point: `Fuzz/run` builds this with -sanitize=fuzzer,address and
// -D INTAKE_FUZZ, and picks the parser with INTAKE_FUZZ_TARGET.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    target.run(bytes)
    return 0
}

let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["INTAKE_FUZZ_TARGET"] ?? ""
    return FuzzTarget(rawValue: name) ?? .line
}()

#if INTAKE_FUZZ
/// libFuzzer's driver (libFuzzer is linked by -sanitize=fuzzer). SwiftPM names an executable's
/// entry point `IntakeFuzz_main`, so the driver is started from here rather than from libFuzzer's `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("IntakeFuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return runDriver(&count, &vector) { data, size in fuzzOne(data, size) }
}
#else
/// Without libFuzzer: replays files through a target (`IntakeFuzz TARGET FILE…`), e.g. a crash found elsewhere.
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let chosen = FuzzTarget(rawValue: name) else {
            print("usage: IntakeFuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE…")
            return
        }
        for file in arguments.dropFirst() {
            if let data = FileManager.default.contents(atPath: file) { chosen.run(data) }
        }
        print("replayed \(arguments.count - 1) inputs through \(chosen.rawValue)")
    }
}
#endif

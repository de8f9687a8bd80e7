// The candidate program of ../shared/bench/codec: `codec-bench PATH [-t SECONDS] [-p PASSES] [-s SLICE]`.
// It mirrors the C baselines' method (bench_common.h): load the file, one untimed verification
// pass, calibrate iterations so that the passes take about `-t` seconds of process CPU time,
// run the passes, print the median as one `impl=` line. The kind is taken from the file name.
import Foundation

var arguments = Array(CommandLine.arguments.dropFirst())
guard let path = arguments.first else {
    FileHandle.standardError.write(Data("usage: codec-bench INPUT.bin [-t SECONDS] [-p PASSES] [-s SLICE]\n".utf8))
    exit(2)
}
var options = BenchOptions()
var index = 1
while index + 1 < arguments.count {
    switch arguments[index] {
    case "-t": options.totalSeconds = Double(arguments[index + 1]) ?? options.totalSeconds
    case "-p": options.passes = Int(arguments[index + 1]) ?? options.passes
    case "-s": options.slice = Int(arguments[index + 1]) ?? options.slice
    default: break
    }
    index += 2
}

let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
guard let data = FileManager.default.contents(atPath: path) else {
    FileHandle.standardError.write(Data("codec-bench: cannot read \(path)\n".utf8))
    exit(2)
}
let input = [UInt8](data)
let status: Int32 =
    if name.hasPrefix("http") {
        runHTTPBench(name: name, input: input, options: options)
    } else {
        runRESPBench(name: name, input: input, options: options)
    }
exit(status)

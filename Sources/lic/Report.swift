import Foundation
import LICCore

enum Report {
    /// "out.lic: 41235 bytes, 768x512x3, 0.8389 bpp, PSNR 33.12 dB, 0.041 s"
    static func line(_ path: String, bytes: Int, image: Image, psnr: Double?, seconds: Double) -> String {
        let bpp = Double(bytes * 8) / Double(image.width * image.height)
        var text = "\(path): \(bytes) bytes, \(image.width)x\(image.height)x\(image.channels), "
        text += String(format: "%.4f bpp", bpp)
        if let psnr { text += psnr.isInfinite ? ", PSNR inf (lossless)" : String(format: ", PSNR %.2f dB", psnr) }
        text += String(format: ", %.3f s", seconds)
        return text
    }
}

enum FileInput {
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw LICError("\(path): cannot read the file") }
        return [UInt8](data)
    }
}

enum FileOutput {
    /// Writes atomically (a temporary file renamed into place), so a failure
    /// never leaves a truncated output behind.
    static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw LICError("\(path): cannot write: \(error.localizedDescription)")
        }
    }
}

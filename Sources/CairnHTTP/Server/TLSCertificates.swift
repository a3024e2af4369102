import CairnCore
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The server's certificate chain and private key, read from PEM files and read again on
/// SIGHUP, so a renewed certificate takes effect without a restart: each new TLS handshake asks
/// for the current pair (NIOSSL's per-handshake context callback); open connections keep theirs.
public final class TLSCertificates: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: Mutex<(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey)>
    private let logger: Logger

    public init(certificatePath: String, keyPath: String, logger: Logger) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.logger = logger
        current = Mutex(try Self.load(certificatePath, keyPath))
    }

    /// Reads both files again; on failure the pair in use stays and the error is logged.
    public func reload() {
        do {
            let pair = try Self.load(certificatePath, keyPath)
            current.withLock { $0 = pair }
            logger.info("reloaded the TLS certificate", metadata: ["certificate": "\(certificatePath)"])
        } catch {
            logger.error("could not reload the TLS certificate; the previous one stays in use", metadata: ["error": "\(error)"])
        }
    }

    /// A server configuration whose every handshake uses the current pair.
    public func configuration() -> TLSConfiguration {
        let (chain, key) = current.withLock { $0 }
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        config.minimumTLSVersion = .tlsv12
        config.sslContextCallback = { [self] _, promise in
            let (chain, key) = current.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = chain.map { .certificate($0) }
            override.privateKey = .privateKey(key)
            promise.succeed(override)
        }
        return config
    }

    /// Reloads on every SIGHUP for the life of the process.
    public func reloadOnHangup() -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { [self] in reload() }
        source.resume()
        return source
    }

    private static func load(_ certificatePath: String, _ keyPath: String) throws -> (chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
            guard !chain.isEmpty else {
                throw CairnError(.invalidArgument, "the certificate file '\(certificatePath)' holds no certificate")
            }
            return (chain, try NIOSSLPrivateKey(file: keyPath, format: .pem))
        } catch let e as CairnError {
            throw e
        } catch {
            throw CairnError(
                .invalidArgument,
                "cannot read the TLS certificate '\(certificatePath)' or key '\(keyPath)': \(error)",
                details: ["certificate": certificatePath]
            )
        }
    }
}

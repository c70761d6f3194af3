import CLI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
exit(Runner.main(Runner.arguments()))

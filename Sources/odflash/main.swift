import CLI; import Foundation; exit(Runner.main(Array(CommandLine.arguments.dropFirst())))

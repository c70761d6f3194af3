import CLI; import Foundation; exit(Runner.main(Runner.arguments()))

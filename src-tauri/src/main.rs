fn main() { petrel::run() }

fn main() {
    petrel::run()
}

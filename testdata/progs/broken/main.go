// Command broken does not compile, on purpose: gotrace record must show the
// compiler's message and leave no trace file behind.
package main

func main() {
	var n int = "not a number"
	_ = n
}

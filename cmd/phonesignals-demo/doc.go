// Command phonesignals-demo runs the whole pipeline on simulated Aircall
// and RingCentral orgs, end to end, and checks every review number against
// an independent computation (`make demo` builds and runs it). It is a
// binary of its own because the simulated providers and the fixture's
// ground truth are test code, which the product binary phonesignals does
// not link.
package main

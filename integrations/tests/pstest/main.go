// Google's Pub/Sub fake (pstest) as a server process for the PUB_SUB integration tests.
//
//	pstest-server [PORT]    prints its address (127.0.0.1:PORT) on stdout, serves until SIGTERM
//
// pstest.NewServer listens on a random port only; its GServer is served here on our own
// listener instead, so that a test can restart the fake on the same address (state is lost).
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"cloud.google.com/go/pubsub/pstest"
	pb "google.golang.org/genproto/googleapis/pubsub/v1"
	"google.golang.org/grpc"
)

func main() {
	port := "0"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	listener, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fake := pstest.NewServer()
	server := grpc.NewServer()
	pb.RegisterPublisherServer(server, &fake.GServer)
	pb.RegisterSubscriberServer(server, &fake.GServer)
	go server.Serve(listener)
	fmt.Println(listener.Addr().String())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	server.Stop()
	fake.Close()
}

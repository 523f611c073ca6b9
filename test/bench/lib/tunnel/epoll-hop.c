// A reference row of the tunnel benchmark, not part of the product: the leanest one-hop TCP forwarder we could
// write, to show what one forwarding process costs on the bench machine when nothing but the kernel is in its way.
// One thread, one epoll set, no fork per connection (socat forks one), TCP_NODELAY on both legs, half-close passed
// on, reads of up to 256 KiB (as tuned socat) into one shared block written out at once; only what the
// destination does not take right away is copied aside, and that side stops reading until it is out.
//
// Usage: epoll-hop LISTEN_PORT TARGET_PORT (both on 127.0.0.1). Prints {"ready":true,...} once listening.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BLOCK (256 * 1024)
#define CLOSED ((void *)-1)

struct conn;
struct end {
  struct conn *conn;
  int index; // 0 = client side, 1 = target side
};
struct conn {
  int fd[2];
  struct end end[2];
  char *pending[2]; // bytes read from fd[i] that fd[1 - i] has not taken yet
  size_t pendingLength[2], pendingOffset[2];
  int readEnded[2];
  unsigned interest[2]; // the epoll events fd[i] is registered for
};

static int epollFd;
static char block[BLOCK];

static void fail(const char *what) {
  perror(what);
  exit(1);
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return address;
}

static void noDelay(int fd) {
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static void closeConn(struct conn *c) {
  for (int i = 0; i < 2; i++) {
    close(c->fd[i]); // also removes it from the epoll set
    free(c->pending[i]);
  }
  free(c);
}

// What fd[i] waits for: input while nothing it sent is pending and it has not ended; output while bytes for it are.
// epoll is told only when that changes.
static void watch(struct conn *c, int i) {
  unsigned wanted = 0;
  if (c->pendingLength[i] == 0 && !c->readEnded[i]) wanted |= EPOLLIN;
  if (c->pendingLength[1 - i] > 0) wanted |= EPOLLOUT;
  if (wanted == c->interest[i]) return;
  struct epoll_event event = {.events = wanted, .data.ptr = &c->end[i]};
  epoll_ctl(epollFd, EPOLL_CTL_MOD, c->fd[i], &event);
  c->interest[i] = wanted;
}

// Writes what is pending from fd[from] to fd[1 - from]; returns -1 on a write error.
static int flush(struct conn *c, int from) {
  while (c->pendingLength[from] > 0) {
    ssize_t n = write(c->fd[1 - from], c->pending[from] + c->pendingOffset[from], c->pendingLength[from]);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->pendingOffset[from] += n;
    c->pendingLength[from] -= n;
  }
  free(c->pending[from]);
  c->pending[from] = NULL;
  c->pendingOffset[from] = 0;
  if (c->readEnded[from]) shutdown(c->fd[1 - from], SHUT_WR);
  return 0;
}

// Reads from fd[from] into the shared block and writes it on at once; returns -1 when the connection is done for.
static int pump(struct conn *c, int from) {
  ssize_t n = read(c->fd[from], block, BLOCK);
  if (n < 0) return errno == EAGAIN ? 0 : -1;
  if (n == 0) {
    c->readEnded[from] = 1;
    shutdown(c->fd[1 - from], SHUT_WR);
    return 0;
  }
  ssize_t written = write(c->fd[1 - from], block, n);
  if (written < 0) {
    if (errno != EAGAIN) return -1;
    written = 0;
  }
  if (written < n) {
    c->pending[from] = malloc(n - written);
    if (c->pending[from] == NULL) return -1;
    memcpy(c->pending[from], block + written, n - written);
    c->pendingLength[from] = n - written;
  }
  return 0;
}

static void accepted(int client, int targetPort) {
  int target = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = loopback(targetPort);
  if (target < 0 || connect(target, (struct sockaddr *)&address, sizeof address) != 0) {
    if (target >= 0) close(target);
    close(client);
    return;
  }
  fcntl(target, F_SETFL, fcntl(target, F_GETFL) | O_NONBLOCK);
  struct conn *c = calloc(1, sizeof *c);
  c->fd[0] = client;
  c->fd[1] = target;
  for (int i = 0; i < 2; i++) {
    c->end[i] = (struct end){c, i};
    noDelay(c->fd[i]);
    c->interest[i] = EPOLLIN;
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = &c->end[i]};
    epoll_ctl(epollFd, EPOLL_CTL_ADD, c->fd[i], &event);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: epoll-hop LISTEN_PORT TARGET_PORT\n");
    return 2;
  }
  int listenPort = atoi(argv[1]), targetPort = atoi(argv[2]);
  signal(SIGPIPE, SIG_IGN);
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in address = loopback(listenPort);
  if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) fail("bind");
  if (listen(listener, 1024) != 0) fail("listen");
  epollFd = epoll_create1(0);
  struct epoll_event listening = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epollFd, EPOLL_CTL_ADD, listener, &listening);
  printf("{\"ready\":true,\"pid\":%d,\"port\":%d}\n", getpid(), listenPort);
  fflush(stdout);

  struct epoll_event events[64];
  for (;;) {
    int count = epoll_wait(epollFd, events, 64, -1);
    if (count < 0 && errno != EINTR) fail("epoll_wait");
    for (int k = 0; k < count; k++) {
      struct end *end = events[k].data.ptr;
      if (end == CLOSED) continue;
      if (end == NULL) {
        int client;
        while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) accepted(client, targetPort);
        continue;
      }
      struct conn *c = end->conn;
      int i = end->index;
      int broken = (events[k].events & EPOLLERR) != 0;
      // Output first: bytes waiting for fd[i] came from fd[1 - i].
      if (!broken && (events[k].events & (EPOLLOUT | EPOLLHUP)) && c->pendingLength[1 - i] > 0) broken = flush(c, 1 - i) < 0;
      if (!broken && (events[k].events & (EPOLLIN | EPOLLHUP)) && c->pendingLength[i] == 0 && !c->readEnded[i]) {
        broken = pump(c, i) < 0;
      }
      if (broken || (c->readEnded[0] && c->readEnded[1] && c->pendingLength[0] == 0 && c->pendingLength[1] == 0)) {
        closeConn(c);
        // Later events of this batch may name the closed connection: drop them.
        for (int rest = k + 1; rest < count; rest++) {
          struct end *other = events[rest].data.ptr;
          if (other != NULL && other->conn == c) events[rest].data.ptr = CLOSED;
        }
        continue;
      }
      watch(c, 0);
      watch(c, 1);
    }
  }
}

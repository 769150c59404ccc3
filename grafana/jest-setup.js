// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';

// jsdom has no MessageChannel, which React 19's scheduler and @grafana/ui
// 13 use at import time. A small pure-JS one is enough: Node's own
// (worker_threads) keeps the test process alive.
class MessagePortShim {
  constructor() {
    this.onmessage = null;
    this.peer = null;
  }
  postMessage(data) {
    const peer = this.peer;
    setTimeout(() => peer.onmessage && peer.onmessage({ data }), 0);
  }
  addEventListener(type, fn) {
    if (type === 'message') {
      this.onmessage = fn;
    }
  }
  removeEventListener(type, fn) {
    if (type === 'message' && this.onmessage === fn) {
      this.onmessage = null;
    }
  }
  start() {}
  close() {}
}

if (typeof global.MessageChannel === 'undefined') {
  global.MessageChannel = class MessageChannel {
    constructor() {
      this.port1 = new MessagePortShim();
      this.port2 = new MessagePortShim();
      this.port1.peer = this.port2;
      this.port2.peer = this.port1;
    }
  };
}

// jsdom has no IntersectionObserver either; @grafana/ui's Select menu
// creates one when it opens. Nothing scrolls in jsdom, so none fires.
if (typeof global.IntersectionObserver === 'undefined') {
  global.IntersectionObserver = class IntersectionObserver {
    constructor(callback, options = {}) {
      this.callback = callback;
      this.root = options.root ?? null;
      this.rootMargin = options.rootMargin ?? '0px';
      this.thresholds = [].concat(options.threshold ?? 0);
    }
    observe() {}
    unobserve() {}
    disconnect() {}
    takeRecords() {
      return [];
    }
  };
}

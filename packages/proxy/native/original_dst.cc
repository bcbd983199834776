// original_dst: the one thing Node cannot do for a transparent proxy — ask the kernel where an
// accepted TCP connection was going before an iptables REDIRECT (or DNAT) rewrote it.
//
//   getOriginalDst(fd: number): { address: string, port: number, family: 4 | 6 }
//
// IPv4 sockets (and IPv6 sockets carrying v4-mapped addresses, as a dual-stack `::` listener
// accepts them) are asked with getsockopt(SOL_IP, SO_ORIGINAL_DST); IPv6 sockets with
// getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST). A failure throws an Error whose `code` is the errno
// name (ENOENT when conntrack has no entry for the connection) and whose message has strerror.
// Written against plain node_api.h (N-API version 8), so one build works on every Node >= 16.

#define NAPI_VERSION 8
#include <node_api.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#ifdef __linux__
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80  // linux/netfilter_ipv4.h
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80  // linux/netfilter_ipv6/ip6_tables.h
#endif
#endif

namespace {

const char* ErrnoName(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EINVAL: return "EINVAL";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOTCONN: return "ENOTCONN";
    case EFAULT: return "EFAULT";
    case EPERM: return "EPERM";
    default: return "EUNKNOWN";
  }
}

// Throws an Error with `code` = errno name and `errno` = the number.
void ThrowErrno(napi_env env, const char* what, int err) {
  std::string message = std::string(what) + ": " + std::strerror(err) + " (" + ErrnoName(err) + ")";
  napi_value code, msg, error, errno_value;
  napi_create_string_utf8(env, ErrnoName(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message.c_str(), NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
}

napi_value MakeResult(napi_env env, const char* address, int port, int family) {
  napi_value result, address_value, port_value, family_value;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &address_value);
  napi_create_int32(env, port, &port_value);
  napi_create_int32(env, family, &family_value);
  napi_set_named_property(env, result, "address", address_value);
  napi_set_named_property(env, result, "port", port_value);
  napi_set_named_property(env, result, "family", family_value);
  return result;
}

napi_value GetOriginalDst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  napi_valuetype type = napi_undefined;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "getOriginalDst(fd): fd must be a number");
    return nullptr;
  }
  int32_t fd = -1;
  napi_get_value_int32(env, argv[0], &fd);
  if (fd < 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "getOriginalDst(fd): fd must be >= 0");
    return nullptr;
  }

#ifdef __linux__
  // Which family is the socket itself? A dual-stack listener hands out AF_INET6 sockets whose
  // addresses are v4-mapped; those were NATed by iptables (not ip6tables), so ask SOL_IP.
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
    ThrowErrno(env, "getsockname", errno);
    return nullptr;
  }
  bool ask_v4 = local.ss_family == AF_INET;
  if (local.ss_family == AF_INET6) {
    const auto* l6 = reinterpret_cast<const sockaddr_in6*>(&local);
    ask_v4 = IN6_IS_ADDR_V4MAPPED(&l6->sin6_addr);
  } else if (local.ss_family != AF_INET) {
    ThrowErrno(env, "getOriginalDst: not an IP socket", EAFNOSUPPORT);
    return nullptr;
  }

  char text[INET6_ADDRSTRLEN] = {0};
  if (ask_v4) {
    sockaddr_in dst{};
    socklen_t len = sizeof(dst);
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len) != 0) {
      ThrowErrno(env, "getsockopt(SOL_IP, SO_ORIGINAL_DST)", errno);
      return nullptr;
    }
    inet_ntop(AF_INET, &dst.sin_addr, text, sizeof(text));
    return MakeResult(env, text, ntohs(dst.sin_port), 4);
  }
  sockaddr_in6 dst{};
  socklen_t len = sizeof(dst);
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &len) != 0) {
    ThrowErrno(env, "getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST)", errno);
    return nullptr;
  }
  inet_ntop(AF_INET6, &dst.sin6_addr, text, sizeof(text));
  return MakeResult(env, text, ntohs(dst.sin6_port), 6);
#else
  ThrowErrno(env, "getOriginalDst: SO_ORIGINAL_DST exists only on Linux", EOPNOTSUPP);
  return nullptr;
#endif
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "getOriginalDst", NAPI_AUTO_LENGTH, GetOriginalDst, nullptr, &fn);
  napi_set_named_property(env, exports, "getOriginalDst", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

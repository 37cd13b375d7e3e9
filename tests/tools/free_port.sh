# Sourced by the scripts that start throwaway servers (services.sh, the workloads' rabbitmq.sh):
# a loopback port nothing listens on, picked at random (the caller defines die()).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  die "no free port found"
}

#!/bin/bash
# tests/bench/bighost.sh OUT NAME: builds the generated sysroot NAME (a big
# passthrough host) at OUT, with tests/fixtures/lib.sh, for the control
# plane benchmark (tests/bench/control.sh, docs/testing.md). Nothing is
# rebuilt when OUT/.bighost says NAME and is newer than lib.sh and this
# script; otherwise OUT is built afresh (in OUT.tmp, then renamed).
#
# Every PCI function of a shape is an endpoint directly on a root bus
# (sys/devices/pci0000:BB/0000:BB:DD.F; one bus per GPU, NIC or NVMe, a
# NIC's VFs on its PF's bus; no root ports or bridges): the device count is
# exactly the functions listed here. Half of each kind is on
# NUMA node 0 (buses 0x10-0x7f), half on node 1 (the same plus 0x80).
#
#   big544  = 544 PCI functions:
#     16  8 GPUs, each two functions in one IOMMU group of their own:
#         10de:1e87 (TU104, RTX 2080) class 030000 on nvidia, 1 MSI vector,
#         and its HDMI audio 10de:10f8 class 040300 on snd_hda_intel, 1 MSI
#         vector (buses 0x10+, 0x90+)
#    512  8 NICs, each an SR-IOV PF and its 63 VFs: Mellanox ConnectX-5 PF
#         15b3:1017 class 020000 on mlx5_core, sriov 63:63, 16 MSI-X
#         vectors, interface ensNf0np0 (N = the bus, decimal); VFs 15b3:1018
#         class 020000 on mlx5_core, 4 MSI-X vectors each, at functions 2..64
#         of the PF's bus (routing ID offset 2, stride 1), virtfnN/physfn
#         linked; every PF and every VF in an IOMMU group of its own
#         (buses 0x20+, 0xa0+)
#     16  16 NVMe: Samsung PM9A3 144d:a80a class 010802 on nvme, 8 MSI-X
#         vectors, disk nvmeNn1 (259:N), each in a group of its own
#         (buses 0x40+, 0xc0+)
#   big2000 = 2000 PCI functions, the same kinds: 16 GPUs (32 functions),
#     30 NICs with 63 VFs each (30 x 64 = 1,920), 48 NVMe.
#
# Host-critical devices: the first NVMe holds / (nvme0n1p2, ext4) and
# /boot/efi (nvme0n1p1, vfat); the first NIC carries the IPv4 default route
# (and a /24 subnet route). Everything else is assignable (IOMMU on,
# vfio-pci loaded). IOMMU groups are numbered in build order from 1; IRQ
# numbers from 100, each vector its own.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: tests/bench/bighost.sh OUT NAME (NAME: big544 or big2000)" >&2
	exit 2
fi
out=$1 name=$2
case $name in
big544) n_gpu=8 n_nic=8 n_vf=63 n_nvme=16 ;;
big2000) n_gpu=16 n_nic=30 n_vf=63 n_nvme=48 ;;
*)
	echo "bighost.sh: unknown host $name (big544 or big2000)" >&2
	exit 2
	;;
esac
expected=$((n_gpu * 2 + n_nic * (1 + n_vf) + n_nvme))

here=$(cd "$(dirname -- "$0")" && pwd)
lib=$here/../fixtures/lib.sh
stamp=$out/.bighost
if [[ -f $stamp && $stamp -nt $lib && $stamp -nt $here/bighost.sh ]] &&
	[[ $(head -n 1 "$stamp") == "$name $expected" ]]; then
	exit 0
fi

# shellcheck source=tests/fixtures/lib.sh
. "$lib"

R=$out.tmp
rm -rf -- "$R"
mkdir -p -- "$R"

group=0 irq=100
# vecs N: the next N IRQ numbers, in VECS.
vecs() {
	local i
	VECS=""
	for ((i = 0; i < $1; i++)); do VECS+="${VECS:+ }$((irq++))"; done
}
# node_bus BASE I N: the bus of the I-th of N devices of a kind (half per
# node), as two hex digits, in BUS; its node in NODE.
node_bus() {
	local half=$((($3 + 1) / 2))
	NODE=$(($2 < half ? 0 : 1))
	printf -v BUS '%02x' $(($1 + NODE * 0x80 + $2 % half))
}

mk_host "$R" iommu=1 vfio=loaded

for ((i = 0; i < n_gpu; i++)); do
	node_bus 0x10 "$i" "$n_gpu"
	group=$((group + 1))
	vecs 1
	mk_dev "$R" "0000:$BUS:00.0" 10de 1e87 030000 driver=nvidia group=$group boot_vga=0 \
		numa=$NODE reset=bus msi="$VECS"
	vecs 1
	mk_dev "$R" "0000:$BUS:00.1" 10de 10f8 040300 driver=snd_hda_intel group=$group \
		numa=$NODE reset=bus msi="$VECS"
done

for ((i = 0; i < n_nic; i++)); do
	node_bus 0x20 "$i" "$n_nic"
	pf=0000:$BUS:00.0
	group=$((group + 1))
	vecs 16
	mk_dev "$R" "$pf" 15b3 1017 020000 driver=mlx5_core group=$group numa=$NODE \
		reset="flr bus" sriov=$n_vf:$n_vf msix="$VECS"
	ifc=ens$((16#$BUS))f0np0
	mk_netif "$R" "$ifc" "$pf"
	if ((i == 0)); then
		add_route "$R" "$ifc"
		add_route "$R" "$ifc" 0000A8C0 00FFFFFF 0001
	fi
	for ((v = 0; v < n_vf; v++)); do
		rid=$((v + 2))
		vf=0000:$BUS:$(printf '%02x' $((rid / 8))).$((rid % 8))
		group=$((group + 1))
		vecs 4
		mk_dev "$R" "$vf" 15b3 1018 020000 driver=mlx5_core group=$group numa=$NODE \
			reset=flr msix="$VECS"
		vf_link "$R" "$pf" "$vf" "$v"
	done
done

for ((i = 0; i < n_nvme; i++)); do
	node_bus 0x40 "$i" "$n_nvme"
	bdf=0000:$BUS:00.0
	group=$((group + 1))
	vecs 8
	mk_dev "$R" "$bdf" 144d a80a 010802 driver=nvme group=$group numa=$NODE \
		reset="flr bus" msix="$VECS"
	mk_disk "$R" "$bdf" "nvme/nvme$i" "nvme${i}n1" "259:$((i * 3))"
	if ((i == 0)); then
		mk_part "$R" nvme0n1 nvme0n1p1 259:1
		mk_part "$R" nvme0n1 nvme0n1p2 259:2
		add_mount "$R" 259:2 /dev/nvme0n1p2 /
		add_mount "$R" 259:1 /dev/nvme0n1p1 /boot/efi vfat
	fi
done

n=$(find "$R/sys/bus/pci/devices" -mindepth 1 -maxdepth 1 | wc -l)
if ((n != expected)); then
	echo "bighost.sh: $name has $n PCI devices, not $expected" >&2
	exit 1
fi
printf '%s %s\n' "$name" "$expected" >"$R/.bighost"
rm -rf -- "$out"
mv -- "$R" "$out"

#!/bin/busybox sh
# Guest /init for the real-peer test: load the drivers, wait for the drives, run odflash and
# sg3-utils side by side, print everything between markers on the console, power off.
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /root
mount -t tmpfs tmpfs /tmp

for m in $(cat /modules/order); do
  insmod /modules/$m.ko 2>/dev/null
done
insmod /modules/scsi_debug.ko ptype=5 inq_vendor=ODFLASH inq_product=SCSI_DEBUG_CD inq_rev=0191 dev_size_mb=4 2>/dev/null

# Wait for 6 SCSI devices: virtio scsi-cd (empty and with a disc), scsi-hd, ide-cd, usb scsi-cd, scsi_debug.
i=0
while [ $(ls /sys/class/scsi_generic 2>/dev/null | wc -l) -lt 6 ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i+1)); done
sleep 0.5

section() { echo "@@@BEGIN $1"; shift; "$@" 2>&1; echo "@@@RC $?"; echo "@@@END"; }

section uname uname -r
section sysfs sh -c 'for d in /sys/class/scsi_generic/*; do echo "$(basename $d) $(cat $d/device/type) $(cat $d/device/vendor)|$(cat $d/device/model)|$(cat $d/device/rev) $(ls $d/device/block 2>/dev/null)"; done'
section scan odflash scan --json
section scan-text odflash scan
for d in /sys/class/scsi_generic/*; do
  sg=/dev/$(basename $d)
  section "sg_inq $sg" sg_inq $sg
  section "sg_inq_sn $sg" sg_inq -p 0x80 $sg
  section "info $sg" odflash info --json $sg
  section "info-text $sg" odflash info $sg
  for b in $(ls $d/device/block 2>/dev/null); do section "info /dev/$b" odflash info --json /dev/$b; done
done

# A disc in a drive: QEMU's scsi-cd with an image reads as a pressed disc (no media ID to find).
for d in /sys/class/scsi_generic/*; do
  case "$(cat $d/device/model)" in CD-WITH-DISC*)
    sg=/dev/$(basename $d)
    section media odflash media --json $sg
    # The drive's own write speeds, asked even for a pressed disc, next to the same two commands from sg_raw:
    # GET PERFORMANCE type 03h (32 descriptors) and MODE SENSE(10) page 2Ah.
    section media-speeds odflash media --speeds --json $sg
    section media-speeds-text odflash media --speeds $sg
    section sg_raw-getperf sg_raw -r 520 $sg ac 00 00 00 00 00 00 00 00 20 03 00
    section sg_raw-modepage sg_raw -r 256 $sg 5a 00 2a 00 00 00 00 01 00 00;;
  esac
done

# Flashing through real SG_IO: the SPC protocol (WRITE BUFFER 0Eh in 32 KiB segments, 0Fh) to scsi_debug.
for d in /sys/class/scsi_generic/*; do
  case "$(cat $d/device/model)" in SCSI_DEBUG_CD*)
    section flash-dry odflash flash --json /dev/$(basename $d) /spc.bin --dry-run --allow-untested --force --no-backup
    section flash odflash flash --json /dev/$(basename $d) /spc.bin --yes --allow-untested --force --no-backup
    section flash-07 odflash flash --json /dev/$(basename $d) /spc.bin --yes --allow-untested --force --no-backup --protocol spc-07
    section flash-transcript sh -c "odflash flash /dev/$(basename $d) /spc.bin --yes --allow-untested --force --no-backup --transcript /tmp/t.txt >/dev/null; head -12 /tmp/t.txt; tail -6 /tmp/t.txt";;
  esac
done

# Benchmark (scripts/vm/bench.py reads it): 2, 8 and 16 MiB images through WRITE BUFFER 0Eh in 32 KiB chunks and one
# 0Fh activate to scsi_debug, odflash and `sg_write_buffer --bpw=32768,act --length=N` alternating (the order flips every
# round), 5 rounds; timeit (scripts/vm/timeit.c) times each process with CLOCK_MONOTONIC. (sg_write_buffer reads at most
# 8 MiB unless --length is given. Mode 07h cannot be compared: scsi_debug raises a unit attention after every 07h
# segment, and sg_write_buffer stops at the second segment; odflash re-sends a command that met a unit attention.)
benchrun() {
  for r in 1 2 3 4 5; do
    for mib in 2 8 16; do
      img=/spc-$mib.bin
      order="sg odflash"; [ $((r % 2)) = 0 ] && order="odflash sg"
      for tool in $order; do
        if [ $tool = sg ]; then timeit "sg $r $mib" sg_write_buffer --bpw=32768,act --mode=0xe --length=$((mib * 1048576)) --in=$img "$1"
        else timeit "odflash $r $mib" odflash flash "$1" $img --yes --allow-untested --force --no-backup; fi
      done
    done
  done
}
for d in /sys/class/scsi_generic/*; do
  case "$(cat $d/device/model)" in SCSI_DEBUG_CD*) section bench benchrun /dev/$(basename $d);; esac
done
# Where a flash's time goes in the guest (ODFLASH_TIMING marks, for reading the benchmark; not checked).
for d in /sys/class/scsi_generic/*; do
  case "$(cat $d/device/model)" in SCSI_DEBUG_CD*)
    for mib in 2 16; do
      section "flash-timing $mib" sh -c "ODFLASH_TIMING=1 odflash flash /dev/$(basename $d) /spc-$mib.bin --yes --allow-untested --force --no-backup >/dev/null"
    done;;
  esac
done

# USB Bulk-Only through libusb: the usb-storage driver is detached, used, then re-attached.
usb=$(odflash scan --json | sed -n 's/.*"\(usb:[0-9]*:[0-9]*\)".*/\1/p' | head -1)
section usbname echo "$usb"
section "usb-driver-before" sh -c 'ls /sys/bus/usb/drivers/usb-storage/ | grep -c :'
section "info $usb" odflash info --json "$usb"
section "info-text $usb" odflash info -v "$usb"
i=0
while [ $(ls /sys/class/scsi_generic | wc -l) -lt 6 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
sleep 1
section "usb-driver-after" sh -c 'ls /sys/bus/usb/drivers/usb-storage/ | grep -c :'
section scan-after odflash scan --json
for d in /sys/class/scsi_generic/*; do
  case "$(readlink -f $d/device)" in *usb*) section "sg_inq-after /dev/$(basename $d)" sg_inq /dev/$(basename $d);; esac
done

# Bad input against real devices.
section region odflash region /dev/sg0
section "nonmmc" sh -c 'for d in /sys/class/scsi_generic/*; do [ "$(cat $d/device/type)" = 0 ] && odflash info /dev/$(basename $d); done'
section "missing" odflash info /dev/sg99
chmod 600 /dev/sg0
section "permission" su -s /bin/sh nobody -c "odflash info /dev/sg0"
section "permission-json" su -s /bin/sh nobody -c "odflash info --json /dev/sg0"

echo "@@@DONE"
poweroff -f

#include "csgio.h"

#ifdef __linux__
#include <sys/ioctl.h>

int csgio_sg_io(int fd, struct sg_io_hdr *hdr) {
    return ioctl(fd, SG_IO, hdr);
}

int csgio_sg_version(int fd, int *version) {
    return ioctl(fd, SG_GET_VERSION_NUM, version);
}
#endif

// Tiny shim exposing Linux SG_IO to Swift. Glibc's module map does not include <scsi/sg.h>,
// and ioctl() is variadic, so Swift cannot call it with a struct pointer directly.
#ifndef CSGIO_H
#define CSGIO_H

#ifdef __linux__
#include <scsi/sg.h>

/// Issues one SG_IO ioctl. Returns the ioctl result; errno is preserved for the caller.
int csgio_sg_io(int fd, struct sg_io_hdr *hdr);
/// SG_GET_VERSION_NUM: >= 30000 for a working sg driver (sg or sr/bsg with SG_IO).
int csgio_sg_version(int fd, int *version);

static const unsigned int CSGIO_SG_INFO_OK_MASK = SG_INFO_OK_MASK;
static const unsigned int CSGIO_SG_INFO_OK = SG_INFO_OK;
static const int CSGIO_DXFER_NONE = SG_DXFER_NONE;
static const int CSGIO_DXFER_TO_DEV = SG_DXFER_TO_DEV;
static const int CSGIO_DXFER_FROM_DEV = SG_DXFER_FROM_DEV;
#endif

#endif

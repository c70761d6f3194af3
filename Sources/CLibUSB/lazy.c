// libusb-1.0 through dlopen: see include/CLibUSB.h.
#include "CLibUSB.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#ifdef __APPLE__
static const char *const names[] = {"libusb-1.0.0.dylib", "libusb-1.0.dylib"};
#else
static const char *const names[] = {"libusb-1.0.so.0", "libusb-1.0.so"};
#endif

// Every function odflash calls: a pointer of the exact type libusb.h declares, found by name.
#define ODFLASH_LIBUSB_FUNCTIONS(X) \
    X(init) X(error_name) X(get_device_list) X(free_device_list) X(get_bus_number) X(get_device_address) \
    X(get_port_numbers) X(get_device_descriptor) X(get_active_config_descriptor) X(get_config_descriptor) \
    X(free_config_descriptor) X(open) X(close) X(claim_interface) X(release_interface) X(kernel_driver_active) \
    X(detach_kernel_driver) X(attach_kernel_driver) X(clear_halt) X(control_transfer) X(bulk_transfer)

#define DECLARE(f) static __typeof__(libusb_##f) *p_##f;
ODFLASH_LIBUSB_FUNCTIONS(DECLARE)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char failure[512];

static void load(void) {
    void *h = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(failure, sizeof failure, "%s", e ? e : "libusb-1.0 was not found");
        return;
    }
#define RESOLVE(f) \
    if (!(p_##f = (__typeof__(libusb_##f) *)dlsym(h, "libusb_" #f))) { \
        snprintf(failure, sizeof failure, "the loaded libusb-1.0 has no libusb_" #f); \
        return; \
    }
    ODFLASH_LIBUSB_FUNCTIONS(RESOLVE)
    loaded = 1;   // the library stays loaded for the life of the process
}

int odflash_libusb_available(void) {
    pthread_once(&once, load);
    return loaded;
}

const char *odflash_libusb_failure(void) { return odflash_libusb_available() ? NULL : failure; }

#define READY (odflash_libusb_available())

int odflash_libusb_init(libusb_context **ctx) { return READY ? p_init(ctx) : LIBUSB_ERROR_NOT_SUPPORTED; }
const char *odflash_libusb_error_name(int errcode) { return READY ? p_error_name(errcode) : NULL; }
ssize_t odflash_libusb_get_device_list(libusb_context *ctx, libusb_device ***list) {
    return READY ? p_get_device_list(ctx, list) : LIBUSB_ERROR_NOT_SUPPORTED;
}
void odflash_libusb_free_device_list(libusb_device **list, int unref_devices) { if (READY) p_free_device_list(list, unref_devices); }
uint8_t odflash_libusb_get_bus_number(libusb_device *dev) { return READY ? p_get_bus_number(dev) : 0; }
uint8_t odflash_libusb_get_device_address(libusb_device *dev) { return READY ? p_get_device_address(dev) : 0; }
int odflash_libusb_get_port_numbers(libusb_device *dev, uint8_t *port_numbers, int port_numbers_len) {
    return READY ? p_get_port_numbers(dev, port_numbers, port_numbers_len) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *desc) {
    return READY ? p_get_device_descriptor(dev, desc) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_get_active_config_descriptor(libusb_device *dev, struct libusb_config_descriptor **config) {
    return READY ? p_get_active_config_descriptor(dev, config) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_get_config_descriptor(libusb_device *dev, uint8_t config_index, struct libusb_config_descriptor **config) {
    return READY ? p_get_config_descriptor(dev, config_index, config) : LIBUSB_ERROR_NOT_SUPPORTED;
}
void odflash_libusb_free_config_descriptor(struct libusb_config_descriptor *config) { if (READY) p_free_config_descriptor(config); }
int odflash_libusb_open(libusb_device *dev, libusb_device_handle **dev_handle) {
    return READY ? p_open(dev, dev_handle) : LIBUSB_ERROR_NOT_SUPPORTED;
}
void odflash_libusb_close(libusb_device_handle *dev_handle) { if (READY) p_close(dev_handle); }
int odflash_libusb_claim_interface(libusb_device_handle *dev_handle, int interface_number) {
    return READY ? p_claim_interface(dev_handle, interface_number) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_release_interface(libusb_device_handle *dev_handle, int interface_number) {
    return READY ? p_release_interface(dev_handle, interface_number) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_kernel_driver_active(libusb_device_handle *dev_handle, int interface_number) {
    return READY ? p_kernel_driver_active(dev_handle, interface_number) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_detach_kernel_driver(libusb_device_handle *dev_handle, int interface_number) {
    return READY ? p_detach_kernel_driver(dev_handle, interface_number) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_attach_kernel_driver(libusb_device_handle *dev_handle, int interface_number) {
    return READY ? p_attach_kernel_driver(dev_handle, interface_number) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_clear_halt(libusb_device_handle *dev_handle, unsigned char endpoint) {
    return READY ? p_clear_halt(dev_handle, endpoint) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_control_transfer(libusb_device_handle *dev_handle, uint8_t request_type, uint8_t bRequest, uint16_t wValue,
                                    uint16_t wIndex, unsigned char *data, uint16_t wLength, unsigned int timeout) {
    return READY ? p_control_transfer(dev_handle, request_type, bRequest, wValue, wIndex, data, wLength, timeout) : LIBUSB_ERROR_NOT_SUPPORTED;
}
int odflash_libusb_bulk_transfer(libusb_device_handle *dev_handle, unsigned char endpoint, unsigned char *data, int length,
                                 int *actual_length, unsigned int timeout) {
    return READY ? p_bulk_transfer(dev_handle, endpoint, data, length, actual_length, timeout) : LIBUSB_ERROR_NOT_SUPPORTED;
}

// libusb-1.0, loaded when a USB drive is first asked for (dlopen) rather than by the dynamic loader at every start:
// loading it (and libudev behind it) was a third of the start-up time of commands that never touch USB, and odflash
// still runs, for everything but USB drives, on a system without it. Each odflash_libusb_X has libusb_X's signature
// and calls it; before libusb is loaded, or when it cannot be, the int-returning ones answer LIBUSB_ERROR_NOT_SUPPORTED,
// the others nothing (0 or NULL), and odflash_libusb_available() says why.
#ifndef ODFLASH_CLIBUSB_H
#define ODFLASH_CLIBUSB_H
#include <libusb-1.0/libusb.h>
#include <sys/types.h>

/// 1 when libusb-1.0 is loaded with every function odflash calls (the first call loads it), else 0.
int odflash_libusb_available(void);
/// Why it is not (the loader's message, or the function it lacks); NULL when it is.
const char *odflash_libusb_failure(void);

int odflash_libusb_init(libusb_context **ctx);
const char *odflash_libusb_error_name(int errcode);
ssize_t odflash_libusb_get_device_list(libusb_context *ctx, libusb_device ***list);
void odflash_libusb_free_device_list(libusb_device **list, int unref_devices);
uint8_t odflash_libusb_get_bus_number(libusb_device *dev);
uint8_t odflash_libusb_get_device_address(libusb_device *dev);
int odflash_libusb_get_port_numbers(libusb_device *dev, uint8_t *port_numbers, int port_numbers_len);
int odflash_libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *desc);
int odflash_libusb_get_active_config_descriptor(libusb_device *dev, struct libusb_config_descriptor **config);
int odflash_libusb_get_config_descriptor(libusb_device *dev, uint8_t config_index, struct libusb_config_descriptor **config);
void odflash_libusb_free_config_descriptor(struct libusb_config_descriptor *config);
int odflash_libusb_open(libusb_device *dev, libusb_device_handle **dev_handle);
void odflash_libusb_close(libusb_device_handle *dev_handle);
int odflash_libusb_claim_interface(libusb_device_handle *dev_handle, int interface_number);
int odflash_libusb_release_interface(libusb_device_handle *dev_handle, int interface_number);
int odflash_libusb_kernel_driver_active(libusb_device_handle *dev_handle, int interface_number);
int odflash_libusb_detach_kernel_driver(libusb_device_handle *dev_handle, int interface_number);
int odflash_libusb_attach_kernel_driver(libusb_device_handle *dev_handle, int interface_number);
int odflash_libusb_clear_halt(libusb_device_handle *dev_handle, unsigned char endpoint);
int odflash_libusb_control_transfer(libusb_device_handle *dev_handle, uint8_t request_type, uint8_t bRequest, uint16_t wValue,
                                    uint16_t wIndex, unsigned char *data, uint16_t wLength, unsigned int timeout);
int odflash_libusb_bulk_transfer(libusb_device_handle *dev_handle, unsigned char endpoint, unsigned char *data, int length,
                                 int *actual_length, unsigned int timeout);
#endif

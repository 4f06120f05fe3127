"""Field I/O: measurements from a park's devices and setpoints to them, over Modbus TCP and MQTT.

The planner knows nothing of this package; it sits in the service beside the REST path. See
``README.md`` beside this file for the device map, the loop and what a device must do.
"""

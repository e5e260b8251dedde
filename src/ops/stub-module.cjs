// Stands in for optional modules a bundle never loads (dbus-next's x11 transport, the usocket addon).
module.exports = {};

// The kiosk load generator (in progress).
print("IntakeLoad: not written yet")

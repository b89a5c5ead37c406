public enum _PlaceholderIntakeDialogs {}

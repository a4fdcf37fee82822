from creditfile.cli import main

main()
